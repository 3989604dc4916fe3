#!/usr/bin/env python3
"""A container that sends malformed ARP and DNS out of IFNAME with AF_PACKET: COUNT frames in all,
spread over the classes below, each one malformed in its own way, paced so the TAP's own queue is
not the bottleneck. DNS goes to the gateway (GATEWAY_MAC, GATEWAY_IP, port 53) from SRC_IP.
Prints one JSON object: per class, how many sends the kernel took and refused, and the drop reason
the switch must count for each.

    dns_arp_sender.py IFNAME COUNT GATEWAY_MAC GATEWAY_IP SRC_IP
"""
import json
import socket
import struct
import sys
import time

ifname, count = sys.argv[1], int(sys.argv[2])
gw_mac = bytes.fromhex(sys.argv[3].replace(":", ""))
gw_ip = socket.inet_aton(sys.argv[4])
src_ip = socket.inet_aton(sys.argv[5])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
sock.bind((ifname, 0))
src_mac = sock.getsockname()[4]
BROADCAST = b"\xff" * 6


def arp(htype=1, ptype=0x0800, hlen=6, plen=4, op=1, cut=None):
    body = struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + src_mac + src_ip + bytes(6) + gw_ip
    frame = BROADCAST + src_mac + b"\x08\x06" + body
    return frame[:cut] if cut else frame + bytes(60 - len(frame))


def query(flags=0x0100, qd=1, an=0, ns=0, ar=0, name=b"\x03www\x04apps\x00", tail=b"\x00\x01\x00\x01"):
    return struct.pack("!HHHHHH", 0x1234, flags, qd, an, ns, ar) + name + tail


def dns(message, udp_length=None):
    udp_len = udp_length if udp_length is not None else 8 + len(message)
    udp = struct.pack("!HHHH", 40000, 53, udp_len, 0) + message
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(message), 1, 0x4000, 64, 17, 0, src_ip, gw_ip)
    return gw_mac + src_mac + b"\x08\x00" + ip + udp


CLASSES = {
    "arp-short": (arp(cut=34), "arp-malformed"),
    "arp-hardware": (arp(htype=6), "arp-malformed"),
    "arp-protocol": (arp(ptype=0x86DD), "arp-malformed"),
    "arp-lengths": (arp(hlen=16), "arp-malformed"),
    "arp-operation": (arp(op=7), "arp-malformed"),
    "dns-truncated": (dns(b"\x12\x34\x01"), "dns-malformed"),
    "dns-response": (dns(query(flags=0x8180)), "dns-malformed"),
    "dns-many-questions": (dns(query(qd=300)), "dns-malformed"),
    "dns-huge-counts": (dns(query(an=0xFFFF, ns=0xFFFF, ar=0xFFFF)), "dns-malformed"),
    "dns-pointer-loop": (dns(query(name=b"\xc0\x0c")), "dns-malformed"),
    "dns-long-label": (dns(query(name=b"\x50" + b"a" * 80 + b"\x00")), "dns-malformed"),
    "dns-name-past-end": (dns(query(name=b"\x28abc", tail=b"")), "dns-malformed"),
    "dns-udp-length-lies": (dns(query(), udp_length=1400), "dns-malformed"),
    "dns-bad-opt": (dns(query(ar=1) + b"\x00\x00\x05\x10\x00\x00\x00\x00\x00\x00\x00"), "dns-malformed"),
}

result = {name: {"sent": 0, "refused": 0, "reason": reason, "error": None} for name, (_, reason) in CLASSES.items()}
names = list(CLASSES)
started = time.monotonic()
for i in range(count):
    name = names[i % len(names)]
    try:
        sock.send(CLASSES[name][0])
        result[name]["sent"] += 1
    except OSError as e:
        result[name]["refused"] += 1
        result[name]["error"] = e.strerror
    if i % 200 == 199:
        time.sleep(0.002)
result["_seconds"] = round(time.monotonic() - started, 3)
print(json.dumps(result))

#!/usr/bin/env python3
"""A hostile container: sends malformed frames and crafted virtio-net headers out of IFNAME with
AF_PACKET (PACKET_VNET_HDR for the headers, as any container with CAP_NET_RAW can), COUNT frames
in all spread over the classes below, paced so the TAP's own queue is not the bottleneck.
Prints one JSON object: per class, how many sends the kernel took, how many it refused, and the
drop reason the switch must count for each frame of that class. (UFO, GSO_UDP, is left out: the
sender's kernel cuts such a frame into IP fragments before the TAP, valid frames the switch
forwards.)

    hostile_sender.py IFNAME COUNT
"""
import json
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_VNET_HDR = 15
NEEDS_CSUM = 1
GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 1, 4, 5

ifname, count = sys.argv[1], int(sys.argv[2])
DST = bytes.fromhex("020000000099")      # unknown unicast: a valid frame would flood
SRC = bytes.fromhex("02000000aa01")


def ipv4_tcp(payload_len, src=SRC, flags=0x10):
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1, 1, 5 << 4, flags, 1000, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + payload_len, 1, 0x4000, 64, 6, 0,
                     bytes([198, 18, 9, 1]), bytes([198, 18, 9, 2]))
    return DST + src + b"\x08\x00" + ip + tcp + bytes(payload_len)


def ipv4_udp(payload_len):
    udp = struct.pack("!HHHH", 40000, 5201, 8 + payload_len, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + payload_len, 1, 0x4000, 64, 17, 0,
                     bytes([198, 18, 9, 1]), bytes([198, 18, 9, 2]))
    return DST + SRC + b"\x08\x00" + ip + udp + bytes(payload_len)


def vnet(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


# class: (vnet header or None for a plain frame, frame, reason the switch must count)
CLASSES = {
    "zero-source": (None, DST + bytes(6) + b"\x88\xb5" + bytes(50), "invalid-source"),
    "multicast-source": (None, DST + bytes.fromhex("010000000001") + b"\x88\xb5" + bytes(50), "invalid-source"),
    "oversize": (None, DST + SRC + b"\x88\xb5" + bytes(3000), "oversize"),
    "tcp-gso-size-1": (vnet(NEEDS_CSUM, GSO_TCPV4, 54, 1, 34, 16), ipv4_tcp(8000), "gso-size"),
    "tcp-gso-size-87": (vnet(NEEDS_CSUM, GSO_TCPV4, 54, 87, 34, 16), ipv4_tcp(8000), "gso-size"),
    "tcp-gso-above-mtu": (vnet(NEEDS_CSUM, GSO_TCPV4, 54, 4000, 34, 16), ipv4_tcp(16000), "gso-size"),
    "tcpv6-gso-on-ipv4": (vnet(NEEDS_CSUM, GSO_TCPV6, 54, 1400, 34, 16), ipv4_tcp(8000), "gso-invalid"),
    "udp-l4-gso-on-tcp": (vnet(NEEDS_CSUM, GSO_UDP_L4, 54, 1400, 34, 16), ipv4_tcp(8000), "gso-invalid"),
    "udp-200-segments": (vnet(NEEDS_CSUM, GSO_UDP_L4, 42, 100, 34, 6), ipv4_udp(20000), "gso-segments"),
    "csum-beyond-frame": (vnet(NEEDS_CSUM, 0, 0, 0, 60000, 16), ipv4_tcp(100), "csum-invalid"),
}

plain = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
plain.bind((ifname, 0))
withhdr = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
withhdr.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
withhdr.bind((ifname, 0))

result = {name: {"sent": 0, "refused": 0, "reason": reason, "error": None} for name, (_, _, reason) in CLASSES.items()}
names = list(CLASSES)
started = time.monotonic()
for i in range(count):
    name = names[i % len(names)]
    header, frame, _ = CLASSES[name]
    try:
        if header is None:
            plain.send(frame)
        else:
            withhdr.send(header + frame)
        result[name]["sent"] += 1
    except OSError as e:
        result[name]["refused"] += 1
        result[name]["error"] = e.strerror
    if i % 200 == 199:
        time.sleep(0.002)  # keep within what the TAP's queue holds while the switch reads
result["_seconds"] = round(time.monotonic() - started, 3)
print(json.dumps(result))

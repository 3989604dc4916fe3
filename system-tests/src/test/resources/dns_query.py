#!/usr/bin/env python3
"""Asks SERVER (port 53) one question and prints the answer as JSON: rcode, flags, addresses.

    dns_query.py SERVER NAME [A|AAAA|MX]
"""
import json
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
qtype = {"A": 1, "AAAA": 28, "MX": 15}[sys.argv[3] if len(sys.argv) > 3 else "A"]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\x00" + struct.pack("!HH", qtype, 1)
family = socket.AF_INET6 if ":" in server else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (server, 53))
r, _ = s.recvfrom(4096)
flags, qd, an = struct.unpack("!HHH", r[2:8])
p = 12
for _ in range(qd):
    while r[p] != 0:
        p += 1 + r[p]
    p += 5
addresses = []
for _ in range(an):
    rtype, rlen = struct.unpack("!H", r[p + 2:p + 4])[0], struct.unpack("!H", r[p + 10:p + 12])[0]
    data = r[p + 12:p + 12 + rlen]
    if rtype == 1:
        addresses.append(socket.inet_ntop(socket.AF_INET, data))
    elif rtype == 28:
        addresses.append(socket.inet_ntop(socket.AF_INET6, data))
    p += 12 + rlen
print(json.dumps({"id": struct.unpack("!H", r[:2])[0], "rcode": flags & 15, "aa": bool(flags & 0x400),
                  "addresses": addresses}))

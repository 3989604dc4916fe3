#!/usr/bin/env python3
"""A resolver for tests, on 127.0.0.1:PORT of the namespace it runs in: names ending in .example get
one A record, 198.18.83.250; every other name NXDOMAIN. Prints "ready" once it listens.

    fake_resolver.py PORT
"""
import socket
import struct
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(2048)
    if len(q) < 12:
        continue
    p = 12
    labels = []
    while p < len(q) and q[p] != 0:
        labels.append(q[p + 1:p + 1 + q[p]].decode("ascii", "replace"))
        p += 1 + q[p]
    end = p + 5
    name = ".".join(labels).lower()
    known = name.endswith(".example")
    header = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180 if known else 0x8183, 1, 1 if known else 0, 0, 0)
    answer = struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4, bytes([198, 18, 83, 250])) if known else b""
    s.sendto(header + q[12:end] + answer, peer)

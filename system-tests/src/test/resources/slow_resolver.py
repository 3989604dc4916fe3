#!/usr/bin/env python3
"""An upstream resolver for the forwarder attacks, on ADDRESS:53 of the namespace it runs in.
Names under "slow." are answered after 400 ms with A 198.18.73.200, and each such question is
first written to LOG as "PORT ID NAME" (what an attacker who guessed the forwarder's port and ID
would know: the test plays the strongest one); names under ".void.test" are never answered;
any other name gets A 198.18.73.201 at once. Prints "ready" once it listens; runs until killed.

    slow_resolver.py ADDRESS LOG
"""
import socket
import struct
import sys
import threading
import time

address, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((address, 53))
print("ready", flush=True)


def reply(q, end, ip):
    header = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180, 1, 1, 0, 0)
    return header + q[12:end] + struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4, bytes(ip))


def later(q, end, peer):
    time.sleep(0.4)
    s.sendto(reply(q, end, [198, 18, 73, 200]), peer)


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
    if name.endswith(".void.test"):
        continue
    if name.startswith("slow"):
        with open(log, "a") as f:
            f.write("%d %d %s\n" % (peer[1], struct.unpack("!H", q[:2])[0], name))
        threading.Thread(target=later, args=(q, end, peer), daemon=True).start()
        continue
    s.sendto(reply(q, end, [198, 18, 73, 201]), peer)

#!/usr/bin/env python3
"""The DNS forwarder's attackers and their victim, run in a container namespace. Each mode prints
one JSON object when done and is bounded in time.

    dns_attack.py lookups SERVER PREFIX COUNT INTERVAL_MS
        COUNT questions for PREFIX0.test, PREFIX1.test, ... one at a time, each waiting up to
        3 s: how many came back NOERROR, REFUSED, SERVFAIL or not at all, and the addresses.
    dns_attack.py flood SERVER RATE SECONDS
        RATE questions a second for random names under .void.test (which the resolver never
        answers) for SECONDS, from one socket: sent, and the answers by rcode.
    dns_attack.py forge SOURCE LOG COUNT SECONDS
        From SOURCE:53 (an address the container gave itself: the resolver's), sends forged
        answers, A 198.18.73.66, for each question LOG names ("PORT ID NAME"), to the daemon's
        namespace (the address in the environment variable TARGET) at that port under that ID,
        as soon as it appears. Stops after COUNT questions or SECONDS.
"""
import json
import os
import random
import socket
import struct
import sys
import time


def question(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    return q + b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\x00" + struct.pack("!HH", 1, 1)


def parse(r):
    flags, qd, an = struct.unpack("!HHH", r[2:8])
    p = 12
    for _ in range(qd):
        while r[p] != 0:
            p += 1 + r[p]
        p += 5
    addresses = []
    for _ in range(an):
        rtype, rlen = struct.unpack("!H", r[p + 2:p + 4])[0], struct.unpack("!H", r[p + 10:p + 12])[0]
        if rtype == 1:
            addresses.append(socket.inet_ntop(socket.AF_INET, r[p + 12:p + 12 + rlen]))
        p += 12 + rlen
    return flags & 15, addresses


RCODES = {0: "noerror", 2: "servfail", 5: "refused"}
mode = sys.argv[1]
if mode == "lookups":
    server, prefix, count, interval = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) / 1000
    out = {"noerror": 0, "refused": 0, "servfail": 0, "other": 0, "timeout": 0, "addresses": {}}
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        qid = random.randrange(65536)
        s.sendto(question("%s%d.test" % (prefix, i), qid), (server, 53))
        try:
            while True:
                r, _ = s.recvfrom(4096)
                if struct.unpack("!H", r[:2])[0] == qid:
                    break
            rcode, addresses = parse(r)
            out[RCODES.get(rcode, "other")] += 1
            for a in addresses:
                out["addresses"][a] = out["addresses"].get(a, 0) + 1
        except socket.timeout:
            out["timeout"] += 1
        s.close()
        time.sleep(interval)
    print(json.dumps(out))
elif mode == "flood":
    server, rate, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    out = {"sent": 0, "noerror": 0, "refused": 0, "servfail": 0, "other": 0}
    start = time.monotonic()

    def drain():
        while True:
            try:
                r = s.recv(4096)
            except BlockingIOError:
                return
            out[RCODES.get(struct.unpack("!H", r[2:4])[0] & 15, "other")] += 1

    while True:
        now = time.monotonic() - start
        if now >= seconds:
            break
        due = int(now * rate)
        while out["sent"] < due:
            name = "%08x.void.test" % random.getrandbits(32)
            try:
                s.sendto(question(name, random.randrange(65536)), (server, 53))
                out["sent"] += 1
            except BlockingIOError:
                break
        drain()
        time.sleep(0.001)
    end = time.monotonic() + 2
    while time.monotonic() < end:  # the last answers: SERVFAIL comes 1.5 s after a question
        drain()
        time.sleep(0.01)
    print(json.dumps(out))
elif mode == "forge":
    source, log, count, seconds = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    target = os.environ["TARGET"]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 53))
    seen, sent = 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and seen < count:
        try:
            with open(log) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines[seen:]:
            port, qid, name = line.split()
            forged = bytearray(question(name, int(qid)))
            forged[2:4] = struct.pack("!H", 0x8180)
            forged[6:8] = struct.pack("!H", 1)
            forged += struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4, bytes([198, 18, 73, 66]))
            for _ in range(3):
                s.sendto(bytes(forged), (target, int(port)))
                sent += 1
        seen = len(lines)
        time.sleep(0.005)
    print(json.dumps({"forged": sent, "questions": seen}))
else:
    sys.exit("unknown mode " + mode)

#!/usr/bin/env python3
"""Counts the tests of one run from the surefire reports: one line per tier and one overall.
Exits 1 when run as root (uid 0) and a system test was skipped: CI runs as root, where the
system tier must really run."""
import glob
import os
import sys
import xml.etree.ElementTree as ET

root, uid = sys.argv[1], int(sys.argv[2])
tiers = {}
for report in glob.glob(os.path.join(root, "*", "target", "surefire-reports", "TEST-*.xml")):
    module = os.path.relpath(report, root).split(os.sep)[0]
    tier = "system" if module == "system-tests" else "pure and fd-level"
    suite = ET.parse(report).getroot()
    counts = tiers.setdefault(tier, [0, 0, 0, 0])
    for i, key in enumerate(("tests", "failures", "errors", "skipped")):
        counts[i] += int(suite.get(key, 0))

total = [0, 0, 0, 0]
for tier in ("pure and fd-level", "system"):
    t, f, e, s = tiers.get(tier, [0, 0, 0, 0])
    print(f"vswitch: {tier} tests: {t} run, {f} failed, {e} errors, {s} skipped")
    total = [a + b for a, b in zip(total, (t, f, e, s))]
print(f"vswitch: all tests: {total[0]} run, {total[1]} failed, {total[2]} errors, {total[3]} skipped")
system = tiers.get("system", [0, 0, 0, 0])
if uid == 0 and (system[0] == 0 or system[3] > 0):
    print(f"vswitch: running as root, yet {system[3]} of {system[0]} system tests were skipped "
          "(or none ran): the system tier must run here", file=sys.stderr)
    sys.exit(1)
sys.exit(0)

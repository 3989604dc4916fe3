#!/usr/bin/env python3
"""Counts the tests of one run from the surefire reports: one line per tier and one overall;
then names every test that failed, with its reason, and the command that reruns one of them.

Usage: test-summary.py ROOT UID PARTIAL [MAVEN_LOG]
  PARTIAL is 1 when scripts/test was given arguments (one module or one test): such a run need
  not hold the system tier. Otherwise it exits 1 when run as root (uid 0) and a system test was
  skipped: CI runs as root, where the system tier must really run.
  MAVEN_LOG, when given, is read for modules Maven did not test because one they need failed."""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

root, uid, partial = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
maven_log = sys.argv[4] if len(sys.argv) > 4 else None

tiers = {}
failed = []  # (module, class, method, reason, report directory)
for report in sorted(glob.glob(os.path.join(root, "*", "target", "surefire-reports", "TEST-*.xml"))):
    module = os.path.relpath(report, root).split(os.sep)[0]
    tier = "system" if module == "system-tests" else "pure and fd-level"
    suite = ET.parse(report).getroot()
    counts = tiers.setdefault(tier, [0, 0, 0, 0])
    for i, key in enumerate(("tests", "failures", "errors", "skipped")):
        counts[i] += int(suite.get(key, 0))
    for case in suite.iter("testcase"):
        for kind in ("failure", "error"):
            for problem in case.findall(kind):
                text = problem.get("message") or problem.get("type") or kind
                reason = text.strip().splitlines()[0] if text.strip() else kind
                if len(reason) > 160:
                    reason = reason[:157] + "..."
                cls = case.get("classname", "?")
                failed.append((module, cls, case.get("name", "?").split("(")[0], reason,
                               os.path.dirname(os.path.relpath(report, root))))

total = [0, 0, 0, 0]
for tier in ("pure and fd-level", "system"):
    t, f, e, s = tiers.get(tier, [0, 0, 0, 0])
    print(f"vswitch: {tier} tests: {t} run, {f} failed, {e} errors, {s} skipped")
    total = [a + b for a, b in zip(total, (t, f, e, s))]
print(f"vswitch: all tests: {total[0]} run, {total[1]} failed, {total[2]} errors, {total[3]} skipped")

untested = []
if maven_log and os.path.exists(maven_log):
    with open(maven_log, errors="replace") as log:
        for line in log:
            # The reactor summary: "[INFO] vswitch-cluster ..... SKIPPED" (with -fae: a module it needs failed).
            m = re.match(r"\[INFO\] (\S+) \.+ SKIPPED", line.strip())
            if m:
                untested.append(m.group(1))
if untested:
    print(f"vswitch: not built or tested, because a module they need failed: {', '.join(untested)}")

if failed:
    print(f"vswitch: {len(failed)} failed:")
    for module, cls, method, reason, _ in failed:
        print(f"  {module}: {cls.rsplit('.', 1)[-1]}.{method}: {reason}")
    module, cls, method, _, reports = failed[0]
    simple = cls.rsplit(".", 1)[-1]
    print("vswitch: rerun one (its module and those it needs are built first; the system tier needs root):")
    print(f"  scripts/test -pl {module} -am -Dtest='{simple}#{method}' -Dsurefire.failIfNoSpecifiedTests=false")
    print(f"vswitch: its report: {reports}/{cls}.txt; what the code under test logged: {module}/target/test-log.txt"
          + ("; each daemon's log: /tmp/vswitchd-*.err" if module == "system-tests" else ""))

system = tiers.get("system", [0, 0, 0, 0])
if not partial and uid == 0 and (system[0] == 0 or system[3] > 0):
    print(f"vswitch: running as root, yet {system[3]} of {system[0]} system tests were skipped "
          "(or none ran): the system tier must run here", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if failed else 0)

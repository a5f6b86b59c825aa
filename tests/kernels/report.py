#!/usr/bin/env python3
"""Reads the xunit XML results kmatrix brought back and prints kernel x passed/failed/skipped."""
import glob, importlib.machinery, importlib.util, os, sys
import xml.etree.ElementTree as ET

# The CI skip-reason check (.ci/check-skips): every skip must name a kernel probe, or it counts as a failure.
here = os.path.dirname(os.path.abspath(__file__))
loader = importlib.machinery.SourceFileLoader("check_skips", os.path.join(here, "..", "..", ".ci", "check-skips"))
check_skips = importlib.util.module_from_spec(importlib.util.spec_from_loader("check_skips", loader))
loader.exec_module(check_skips)
probes = check_skips.probe_names()

out_dir, kernels = sys.argv[1], sys.argv[2:]
rows, details, notes, bad = [], [], [], False
for run in sorted(glob.glob(os.path.join(out_dir, "*"))):
    kernel = os.path.basename(run)
    if not any(kernel.startswith(k + ".") for k in kernels):
        continue
    p = f = s = 0
    files = glob.glob(os.path.join(run, "*.xml"))
    if not files and not glob.glob(os.path.join(run, "*.log")):
        rows.append((kernel, "-", "-", "-", "no results (guest crashed or timed out; see $KM_WORK/logs)"))
        bad = True
        continue
    for x in files:
        for test in ET.parse(x).getroot().iter("test"):
            r = test.get("result")
            if r == "Pass":
                p += 1
                notes.extend(f"{kernel}  {line.strip()}" for line in (test.findtext("output") or "").splitlines() if line.strip().startswith("co-re:"))
            elif r == "Fail":
                f += 1
                msg = (test.findtext("failure/message") or "").strip().splitlines()
                details.append(f"{kernel}  FAIL  {test.get('name')}: {msg[0] if msg else ''}")
            elif r == "Skip":
                reason = (test.findtext('reason') or '').strip()
                problem = check_skips.bad_reason(reason, probes)
                if problem:
                    f += 1
                    details.append(f"{kernel}  BAD SKIP  {test.get('name')}: {problem}: {reason}")
                else:
                    s += 1
                    details.append(f"{kernel}  skip  {test.get('name')}: {reason}")
    # An assembly whose console log (tests/kernels/guest: -reporter verbose, tee'd to /km-out live) has no XML did
    # not finish: name the tests that started and never finished (the one that hung or took the guest down).
    for log in sorted(glob.glob(os.path.join(run, "*.log"))):
        if os.path.exists(log[:-4] + ".xml"):
            continue
        started = []
        with open(log, errors="replace") as fh:
            for line in fh:
                line = line.strip()
                if line.endswith("[STARTING]"):
                    started.append(line[:-len("[STARTING]")].strip())
                elif "[FINISHED]" in line:
                    name = line.split("[FINISHED]")[0].strip()
                    if name in started:
                        started.remove(name)
        details.append(f"{kernel}  UNFINISHED  {os.path.basename(log)[:-4]}: running when the guest stopped: {'; '.join(started) or 'no test (between tests)'}")
        f += 1
    bad |= f > 0
    rows.append((kernel, p, f, s, ""))
print(f"{'kernel':<22} {'passed':>7} {'failed':>7} {'skipped':>8}")
for k, p, f, s, note in rows:
    print(f"{k:<22} {p!s:>7} {f!s:>7} {s!s:>8} {note}")
for d in details + notes:
    print(d)
sys.exit(1 if bad or not rows else 0)

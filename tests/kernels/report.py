#!/usr/bin/env python3
"""Reads the xunit XML results kmatrix brought back and prints kernel x passed/failed/skipped."""
import glob, os, sys
import xml.etree.ElementTree as ET

out_dir, kernels = sys.argv[1], sys.argv[2:]
rows, details, notes, bad = [], [], [], False
for run in sorted(glob.glob(os.path.join(out_dir, "*"))):
    kernel = os.path.basename(run)
    if not any(kernel.startswith(k + ".") for k in kernels):
        continue
    p = f = s = 0
    files = glob.glob(os.path.join(run, "*.xml"))
    if not files:
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
                s += 1
                details.append(f"{kernel}  skip  {test.get('name')}: {(test.findtext('reason') or '').strip()}")
    bad |= f > 0
    rows.append((kernel, p, f, s, ""))
print(f"{'kernel':<22} {'passed':>7} {'failed':>7} {'skipped':>8}")
for k, p, f, s, note in rows:
    print(f"{k:<22} {p!s:>7} {f!s:>7} {s!s:>8} {note}")
for d in details + notes:
    print(d)
sys.exit(1 if bad or not rows else 0)

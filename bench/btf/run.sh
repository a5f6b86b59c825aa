#!/usr/bin/env bash
# kscope btf vs pahole and bpftool, whole process, on this machine's /sys/kernel/btf/vmlinux:
#   kscope btf dump kvm_run        vs  pahole -C kvm_run /sys/kernel/btf/vmlinux
#   kscope btf c (every type)      vs  bpftool btf dump file /sys/kernel/btf/vmlinux format c
# Prints hyperfine medians, peak RSS (/usr/bin/time -v, Debian package 'time') and ratios.
# KSCOPE=path/to/kscope skips the publish step (default: trimmed single-file publish into artifacts/bench).
# BASELINE=path/to/older/kscope adds it to the same hyperfine runs (before/after and reference from one run).
# RUNS=n (default 20). The load average is printed: the numbers mean little on a busy machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
VMLINUX=/sys/kernel/btf/vmlinux
for tool in hyperfine pahole bpftool /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (bash .ci/install-deps)"; exit 1; }
done
if [ -z "${KSCOPE:-}" ]; then
  dotnet publish src/Kscope.Cli -c Release -r linux-x64 -o artifacts/bench >/dev/null
  KSCOPE=artifacts/bench/kscope
fi
out=$(mktemp -d)
median() { # hyperfine json -> median seconds of command N
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"
}
rss() { # peak RSS in KiB of one run
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}
compare() { # name, kscope command, reference command
  local name=$1 k=$2 r=$3 b=""
  [ -n "${BASELINE:-}" ] && b="$BASELINE ${k#"$KSCOPE "}"
  local cmds=("$k" "$r"); [ -n "$b" ] && cmds+=("$b")
  hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json "$out/$name.json" "${cmds[@]}" >/dev/null 2>&1 || \
    hyperfine --warmup 3 --runs "${RUNS:-20}" --export-json "$out/$name.json" "${cmds[@]}" >/dev/null
  local km rm bm=0 krss rrss brss=0
  km=$(median "$out/$name.json" 0); rm=$(median "$out/$name.json" 1)
  # shellcheck disable=SC2086
  krss=$(rss $k); rrss=$(rss $r)
  if [ -n "$b" ]; then
    bm=$(median "$out/$name.json" 2)
    # shellcheck disable=SC2086
    brss=$(rss $b)
  fi
  python3 - "$name" "$km" "$rm" "$krss" "$rrss" "$k" "$r" "$bm" "$brss" "$b" <<'PY'
import sys
name, km, rm, krss, rrss, k, r = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
bm, brss, b = float(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
print(f"{name}")
print(f"  kscope    {km*1000:8.1f} ms median  {krss/1024:7.1f} MiB peak RSS   ({k})")
print(f"  reference {rm*1000:8.1f} ms median  {rrss/1024:7.1f} MiB peak RSS   ({r})")
if b:
    print(f"  baseline  {bm*1000:8.1f} ms median  {brss/1024:7.1f} MiB peak RSS   ({b})")
print(f"  ratio     time {km/rm:5.2f}x   rss {krss/rrss:5.2f}x   (kscope / reference; < 1 is better)")
if b:
    print(f"  baseline  time {bm/rm:5.2f}x   rss {brss/rrss:5.2f}x   (baseline / reference); kscope / baseline {km/bm:5.2f}x")
PY
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, RUNS=${RUNS:-20}"
compare "dump kvm_run" "$KSCOPE btf dump kvm_run" "pahole -C kvm_run $VMLINUX"
compare "c (all types)" "$KSCOPE btf c" "bpftool btf dump file $VMLINUX format c"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

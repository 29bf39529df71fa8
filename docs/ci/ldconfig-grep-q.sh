#!/usr/bin/env bash
# How often `ldconfig -p | grep -q LIB` fails under pipefail although LIB is installed (the check .ci/run used before
# has_lib), against grep reading all of the output (has_lib). Prints the machine and the counts.
set -uo pipefail
lib=${1:-libmkl_rt.so}; runs=${2:-200}
grep -m1 "model name" /proc/cpuinfo
ldconfig -p | grep -F "$lib" | head -1
old=0; new=0
for i in $(seq 1 "$runs"); do ldconfig -p 2>/dev/null | grep -q "$lib" || old=$((old + 1)); done
for i in $(seq 1 "$runs"); do ldconfig -p 2>/dev/null | grep -F "$lib" >/dev/null || new=$((new + 1)); done
echo "grep -q: $old of $runs checks failed; grep reading everything: $new of $runs failed"

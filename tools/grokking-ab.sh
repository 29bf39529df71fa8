#!/usr/bin/env bash
# Alternating grokking processes, two builds of the sample side by side: the measurement every session's grokking A/B
# needs on a machine whose speed moves from minute to minute (compare only pairs run back to back).
#
#   tools/grokking-ab.sh BASE_REPO NEW_REPO PAIRS OUT_DIR [extra sample arguments...]
#
# BASE_REPO and NEW_REPO are checkouts (a git worktree of the base commit, the working tree) with the sample built in Release
# (`dotnet build samples/Grokking -c Release`). Each pair runs `Grokking.dll --warmup --json` once per build, the new one
# first in odd pairs; OUT_DIR gets base-I.jsonl and new-I.jsonl and summary.txt: per run the sum of the 30 rounds' seconds,
# of their kernel, solve and AGOP phases, and the first round at 100% test accuracy.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
base=$1 new=$2 pairs=$3 out=$4
shift 4
mkdir -p "$out"
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) = 1 ]; then order="new base"; else order="base new"; fi
  for v in $order; do
    if [ "$v" = base ]; then repo=$base; else repo=$new; fi
    (cd "$repo/samples/Grokking" && dotnet bin/Release/net10.0/Grokking.dll --warmup --json --out "$out/plots-$v" "$@" > "$out/$v-$i.jsonl" 2>/dev/null)
  done
done
rm -rf "$out/plots-base" "$out/plots-new"
python3 - "$out" "$pairs" <<'PY' | tee "$out/summary.txt"
import json, sys
out, pairs = sys.argv[1], int(sys.argv[2])
for i in range(1, pairs + 1):
    row = []
    for v in ("base", "new"):
        total = 0.0; phases = [0.0, 0.0, 0.0]; first = None
        for line in open(f"{out}/{v}-{i}.jsonl"):
            if line.startswith('{"iteration'):
                o = json.loads(line)
                total += o["seconds"]; phases[0] += o["kernel_seconds"]; phases[1] += o["solve_seconds"]; phases[2] += o["agop_seconds"]
                if first is None and o["test_accuracy"] == 1:
                    first = o["iteration"]
        row.append(f"{v} {total:.3f} s (kernel {phases[0]:.3f}, solve {phases[1]:.3f}, agop {phases[2]:.3f}; 100% at round {first})")
    print(f"pair {i}: " + "; ".join(row))
PY

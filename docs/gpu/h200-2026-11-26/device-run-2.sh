#!/bin/bash
# Second GPU run of the session: grokking with Auto = dense AGOP on the GPU; full Nyström rounds (solve + AGOP) at n = 10^6; the tree.
export DOTNET_ROOT=/opt/fl/dotnet PATH=/opt/fl/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 FEATURELEARNING_DEVICE=cuda
A=/opt/fl/app
T0=$(date +%s)
step() { echo "{\"step\":\"$1\",\"elapsed\":$(( $(date +%s) - T0 ))}" >> $OUT/steps.jsonl; }
step grokking
for r in 1 2; do timeout 40 dotnet $A/grok/Grokking.dll --backend ilgpu --warmup --json --time-split --out /tmp/g > $OUT/g-double-$r.jsonl 2>/dev/null; done
timeout 40 dotnet $A/grok/Grokking.dll --backend ilgpu --warmup --json --time-split --precision single --out /tmp/g > $OUT/g-single.jsonl 2>/dev/null
step m10000
timeout 90 dotnet $A/scale/Scale.dll --backend ilgpu --solver nystrom --n 1000000 --d 50 --centres 10000 --iterations 2 --json > $OUT/s-m10000.jsonl 2>/dev/null
step m50000
timeout 170 dotnet $A/scale/Scale.dll --backend ilgpu --solver nystrom --n 1000000 --d 50 --centres 50000 --iterations 2 --json > $OUT/s-m50000.jsonl 2>/dev/null
step tree
timeout 170 dotnet $A/scale/Scale.dll --backend ilgpu --solver tree --n 1000000 --d 50 --leaf-size 10000 --json > $OUT/s-tree.jsonl 2>/tmp/tree.err; tail -c 3000 /tmp/tree.err > $OUT/s-tree.err
step end

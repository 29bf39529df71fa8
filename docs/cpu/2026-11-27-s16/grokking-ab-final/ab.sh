# Alternating processes: base 453bf27 (session start, /tmp/base16) and new (working tree at 9078b35: the AGOP glue and the look-ahead), new first in odd pairs.
for i in 1 2 3 4 5 6; do
  if [ $((i % 2)) = 1 ]; then order="new base"; else order="base new"; fi
  for v in $order; do
    if [ $v = base ]; then dir=/tmp/base16/samples/Grokking; else dir=/work/main/samples/Grokking; fi
    (cd $dir && dotnet bin/Release/net10.0/Grokking.dll --warmup --json --out /tmp/ab2/out-$v-$i > /tmp/ab2/$v-$i.jsonl 2>/dev/null)
  done
done
python3 - <<'P'
import json
for i in range(1,7):
  row=[]
  for v in ('base','new'):
    t=0;ph=[0,0,0];first=None
    for l in open(f'/tmp/ab2/{v}-{i}.jsonl'):
      if l.startswith('{"iteration'):
        o=json.loads(l); t+=o['seconds']; ph[0]+=o['kernel_seconds']; ph[1]+=o['solve_seconds']; ph[2]+=o['agop_seconds']
        if first is None and o['test_accuracy']==1: first=o['iteration']
    row.append(f"{v} {t:.3f} s (kernel {ph[0]:.3f}, solve {ph[1]:.3f}, agop {ph[2]:.3f}; 100% at round {first})")
  print(f"pair {i}: "+"; ".join(row))
P

#!/bin/bash
# Third GPU run of the session: the conformance classes the first run's time limit cut off, on the final build.
export DOTNET_ROOT=/opt/fl/dotnet PATH=/opt/fl/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 FEATURELEARNING_DEVICE=cuda
A=/opt/fl/app
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $OUT/gpu.txt 2>&1
for f in IlgpuTreeTests TransferStressTests IlgpuNystromTests IlgpuBackendTests IlgpuPortableKernelsOnCudaTests; do
  timeout 150 dotnet $A/runner/DeviceTestRunner.dll $A/tests/FeatureLearning.Backends.Ilgpu.Tests.dll $f > $OUT/conformance-$f.txt 2>&1
  tail -1 $OUT/conformance-$f.txt
done
timeout 40 dotnet $A/grok/Grokking.dll --backend ilgpu --warmup --json --time-split --out /tmp/g > $OUT/grokking-final.jsonl 2>/dev/null
grep -v '"iteration"' $OUT/grokking-final.jsonl | cut -c1-300

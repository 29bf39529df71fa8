#!/usr/bin/env bash
# Packs what a GPU machine without the .NET SDK needs to run the grokking sample and the ILGPU test classes on CUDA:
# the .NET runtime of this machine (the muxer, hostfxr, Microsoft.NETCore.App), the Release builds of samples/Grokking,
# tools/DeviceTestRunner and tests/FeatureLearning.Backends.Ilgpu.Tests (linux-x64 native assets only), the commit, and a
# device script. Build first: `dotnet build FeatureLearning.sln -c Release`.
#
#   tools/gpu-bundle.sh DEVICE_SCRIPT [OUT]     (OUT: .gpu/bundle.tar.xz, ignored by git)
#
# On the GPU machine (the device tool carries .gpu): mkdir -p /opt/fl && tar -xJf .gpu/bundle.tar.xz -C /opt/fl &&
# bash /opt/fl/device.sh. The device script finds the runtime at /opt/fl/dotnet and the builds under /opt/fl/app.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
script=$1 out=${2:-.gpu/bundle.tar.xz}
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dotnet/shared" "$stage/app"
cp "$root/dotnet" "$stage/dotnet/"
cp -r "$root/host" "$stage/dotnet/"
cp -r "$root/shared/Microsoft.NETCore.App" "$stage/dotnet/shared/"
copy_build() {  # copy_build FROM TO: a Release output without the other platforms' native assets
  cp -r "$1" "$2"
  if [ -d "$2/runtimes" ]; then
    find "$2/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  fi
}
copy_build samples/Grokking/bin/Release/net10.0 "$stage/app/grok"
copy_build tools/DeviceTestRunner/bin/Release/net10.0 "$stage/app/runner"
copy_build tests/FeatureLearning.Backends.Ilgpu.Tests/bin/Release/net10.0 "$stage/app/tests"
git log -1 --format='%h%n%s' > "$stage/commit.txt"
cp "$script" "$stage/device.sh"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cJf "$out" .
ls -l "$out"

using BenchmarkDotNet.Running;
using FeatureLearning.Benchmarks;
using FeatureLearning.Compute;

// `--quick`: one JSON line per operation in under two minutes; otherwise the BenchmarkDotNet suites
// (pass BenchmarkDotNet's own arguments, e.g. `--filter *Gemm*`).
if (args.Contains("--quick"))
{
    int repeats = 3;
    int at = Array.IndexOf(args, "--repeats");
    if (at >= 0 && at + 1 < args.Length)
    {
        repeats = int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
    }

    var backends = new List<IComputeBackend> { new ManagedBackend() };
    if (FeatureLearning.Backends.Native.NativeBackend.TryCreate(null, out var native, out var reasons))
    {
        backends.Add(native!);
    }
    else
    {
        Console.Error.WriteLine($"# native backend not available: {string.Join("; ", reasons)}");
    }
    QuickBenchmark.Run(backends, repeats);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(QuickBenchmark).Assembly).Run(args);
return 0;

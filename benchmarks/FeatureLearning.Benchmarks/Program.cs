using BenchmarkDotNet.Running;
using FeatureLearning.Benchmarks;
using FeatureLearning.Compute;

// `--gpu`: the GPU mode on the ILGPU backend (FEATURELEARNING_DEVICE chooses the device), `--sizes 10000,20000,50000`;
// `--gpu --network`: the network benchmark on the device.
if (args.Contains("--gpu"))
{
    int at = Array.IndexOf(args, "--sizes");
    var sizes = at >= 0 && at + 1 < args.Length
        ? args[at + 1].Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
        : [10_000, 20_000, 50_000];
    int r = Array.IndexOf(args, "--repeats");
    int gpuRepeats = r >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    using var gpu = new FeatureLearning.Backends.Ilgpu.IlgpuBackend();
    if (args.Contains("--diagnostics"))
    {
        // `--gpu --diagnostics [--tiny]`: the spectral diagnostics on the device.
        DiagnosticsBenchmark.Run([gpu], args.Contains("--tiny"));
        return 0;
    }

    if (args.Contains("--network"))
    {
        // `--gpu --network [--tiny]`: the network lines of the quick mode on the device.
        NetworkBenchmark.Run([gpu], gpuRepeats, args.Contains("--tiny"), BlockSizeArgument(args));
        return 0;
    }

    GpuBenchmark.Run(gpu, sizes, gpuRepeats);
    return 0;
}

// `--quick`: one JSON line per operation in under two minutes (`--quick --patch-agop`: ConvRFM's patch AGOP only;
// `--quick --blas-vendors`: MKL against OpenBLAS and managed, interleaved; `--quick --network [--tiny]`: the empirical NTK
// and one GD step; `--quick --diagnostics [--tiny]`: top-10 loss-Hessian eigenvalues and the NTK spectrum); otherwise the BenchmarkDotNet suites
// (pass BenchmarkDotNet's own arguments, e.g. `--filter *Gemm*`).
if (args.Contains("--quick"))
{
    int repeats = 3;
    int at = Array.IndexOf(args, "--repeats");
    if (at >= 0 && at + 1 < args.Length)
    {
        repeats = int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
    }

    if (args.Contains("--blas-vendors"))
    {
        // MKL against OpenBLAS (and managed), interleaved in one process.
        VendorBenchmark.Run(repeats);
        return 0;
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
    if (args.Contains("--gemm-blocking"))
    {
        // The managed GEMM's and Cholesky's cache blocking, swept around the rule's choice (native alongside).
        BlockingBenchmark.Run(backends[0], backends.Count > 1 ? backends[1] : null, repeats);
        return 0;
    }

    if (args.Contains("--diagnostics"))
    {
        // The spectral diagnostics: top-10 loss-Hessian eigenvalues and the NTK spectrum (`--tiny`: a toy size).
        DiagnosticsBenchmark.Run(backends, args.Contains("--tiny"));
        return 0;
    }

    if (args.Contains("--network"))
    {
        // Only the network side: the empirical NTK and one GD step (`--tiny`: a toy size, to check the code path).
        NetworkBenchmark.Run(backends, repeats, args.Contains("--tiny"), BlockSizeArgument(args));
        return 0;
    }

    if (args.Contains("--patch-agop"))
    {
        // Only ConvRFM's all-pairs patch AGOP (it is also part of the whole quick mode).
        foreach (var backend in backends)
        {
            QuickBenchmark.PatchAgop(backend);
        }

        return 0;
    }

    QuickBenchmark.Run(backends, repeats);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(QuickBenchmark).Assembly).Run(args);
return 0;

static int? BlockSizeArgument(string[] args)
{
    int at = Array.IndexOf(args, "--block-size");
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
}

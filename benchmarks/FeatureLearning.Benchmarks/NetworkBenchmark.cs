using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// The network side (`--quick --network`): the empirical NTK Θ(X, X) and one full-batch GD step of a network with three
/// hidden layers of width 1,024 (d = 100, one output, ReLU, NTK parameterisation) at n = 2,000 and 10,000, each as GFLOP/s
/// next to the GEMM rate (n = 2,000 square) measured in the same run, in double and single precision. The flops are
/// those of the GEMMs the operation runs (<c>EmpiricalNtk.GemmFlops</c>; for the step, forward, weight gradients and the
/// layer-input gradients above layer 0). `--tiny` runs every line at a toy size (a smoke test of the code path, not a
/// measurement); `--block-size B` sets the NTK's block size (2,048 by default). <c>empirical_ntk</c> times the host overload (MathNet in and out, the n × n result downloaded);
/// <c>empirical_ntk_buffers</c> the overload on backend buffers, the same computation without the transfers.
/// </summary>
internal static class NetworkBenchmark
{
    public static void Run(IReadOnlyList<IComputeBackend> backends, int repeats, bool tiny, int? blockSize = null)
    {
        foreach (var backend in backends)
        {
            Console.Error.WriteLine($"# {backend.Describe()}");
            Run<double>(backend, repeats, tiny, blockSize);
            Run<float>(backend, repeats, tiny, blockSize);
        }
    }

    private static void Run<T>(IComputeBackend backend, int repeats, bool tiny, int? blockSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string precision = PrecisionExtensions.Of<T>().ToName();
        int width = tiny ? 32 : 1024, d = tiny ? 8 : 100, gemmN = tiny ? 64 : 2000;
        int[] sizes = tiny ? [40, 100] : [2000, 10000];
        double gemmGflops;
        using (var w = new Workloads<T>(backend))
        {
            var a = w.Random(gemmN, gemmN, 1);
            var b = w.Random(gemmN, gemmN, 2);
            var c = w.Allocate(gemmN, gemmN);
            gemmGflops = Workloads<T>.GemmFlops(gemmN) / QuickBenchmark.Time(() => { w.Gemm(a, b, c); backend.Synchronize(); }, repeats) / 1e9;
        }

        var arch = new NetworkArchitecture { InputDimension = d, HiddenWidths = [width, width, width], OutputDimension = 1 };
        using var network = FullyConnectedNetwork<T>.Create(arch, seed: 1, backend: backend);
        var options = new EmpiricalNtkOptions { BlockSize = blockSize ?? (tiny ? 32 : 2048) };
        foreach (int n in sizes)
        {
            var rng = new Random(n);
            var x = Matrix<T>.Build.Dense(n, d, (_, _) => T.CreateTruncating(rng.NextDouble() - 0.5));
            var y = Matrix<T>.Build.Dense(n, 1, (_, _) => T.CreateTruncating(rng.NextDouble() - 0.5));

            // Θ(X, X): one warm-up at the same size would double the time at n = 10,000, so the repeats are capped there.
            double ntkSeconds = QuickBenchmark.Time(() => EmpiricalNtk.Compute(network, x, null, options), n > 5000 ? 1 : repeats);
            double ntkFlops = EmpiricalNtk.GemmFlops(arch, n, n, true, options);
            Line("empirical_ntk", backend.Name, precision, n, width, d, $",\"block_size\":{options.BlockSize}", ntkSeconds, ntkFlops, gemmGflops);

            // The same Θ(X, X) on backend buffers (X uploaded once, Θ left where it is): the computation without the
            // n × n download and the MathNet matrix, which dominate on a GPU.
            using (var xd = backend.Upload<T>(x.ToRowMajorArray(), n, d))
            using (var theta = backend.Allocate<T>(n, n))
            {
                double deviceSeconds = QuickBenchmark.Time(() => { EmpiricalNtk.Compute(network, xd, xd, theta, options); backend.Synchronize(); }, n > 5000 ? 1 : repeats);
                Line("empirical_ntk_buffers", backend.Name, precision, n, width, d, $",\"block_size\":{options.BlockSize}", deviceSeconds, ntkFlops, gemmGflops);
            }

            // One full-batch GD step: the interval between two consecutive step reports of Train (update, forward, loss, backward).
            double stepSeconds = double.PositiveInfinity;
            var last = Stopwatch.StartNew();
            bool first = true;
            var progress = new Reporter<NetworkTrainingProgress>(p =>
            {
                if (p.EndOfEpoch)
                {
                    return;
                }

                if (!first)
                {
                    stepSeconds = Math.Min(stepSeconds, last.Elapsed.TotalSeconds);
                }

                first = false;
                last.Restart();
            });
            using (network.Train(x, y, new NetworkTrainingOptions { LearningRate = 1e-3, Epochs = 1 + Math.Max(2, repeats) }, progress).Network)
            {
            }

            Line("gd_step", backend.Name, precision, n, width, d, string.Empty, stepSeconds, StepFlops(arch, n), gemmGflops);
        }
    }

    /// <summary>Forward 2n·Σ fan_out·fan_in, weight gradients as much again, layer-input gradients 2n·Σ_(l≥1) fan_out·fan_in (no biases here).</summary>
    private static double StepFlops(NetworkArchitecture arch, int n)
    {
        double flops = 0;
        for (int l = 0; l < arch.LayerCount; l++)
        {
            double product = 2.0 * n * arch.FanOut(l) * arch.FanIn(l);
            flops += (l > 0 ? 3 : 2) * product;
        }

        return flops;
    }

    private static void Line(string op, string backend, string precision, int n, int width, int d, string extra, double seconds, double flops, double gemmGflops)
    {
        double gflops = flops / seconds / 1e9;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"op\":\"{op}\",\"backend\":\"{backend}\",\"precision\":\"{precision}\",\"n\":{n},\"hidden\":[{width},{width},{width}],\"d\":{d},\"c\":1{extra},\"seconds\":{seconds:F4},\"gflops\":{gflops:F1},\"gemm_gflops\":{gemmGflops:F1},\"fraction_of_gemm\":{gflops / gemmGflops:F2}}}"));
    }


    private sealed class Reporter<TValue>(Action<TValue> handler) : IProgress<TValue>
    {
        public void Report(TValue value) => handler(value);
    }
}

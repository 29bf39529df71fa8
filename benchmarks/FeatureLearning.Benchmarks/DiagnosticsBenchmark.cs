using System.Diagnostics;
using System.Globalization;
using FeatureLearning.Compute;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Benchmarks;

/// <summary>
/// The spectral diagnostics (`--quick --diagnostics`), in double precision: the top-10 eigenvalues of the loss Hessian
/// (MSE, Lanczos on exact Hessian-vector products over all samples) of a network with three hidden layers of width 512
/// (d = 100, one output, ReLU, NTK parameterisation) at n = 10,000, and the spectrum of its empirical NTK at n = 5,000 by
/// the matrix-free Lanczos path (top 10 and the smallest eigenvalue) and by the dense path (the kernel formed, then a
/// full symmetric eigendecomposition). Each line reports the wall time of one run and the operator applications (one per
/// Lanczos iteration). `--tiny` runs every line at a toy size (a smoke test of the code path, not a measurement).
/// </summary>
internal static class DiagnosticsBenchmark
{
    public static void Run(IReadOnlyList<IComputeBackend> backends, bool tiny)
    {
        foreach (var backend in backends)
        {
            Console.Error.WriteLine($"# {backend.Describe()}");
            Run(backend, tiny);
        }
    }

    private static void Run(IComputeBackend backend, bool tiny)
    {
        int width = tiny ? 32 : 512, d = tiny ? 8 : 100, hessianN = tiny ? 200 : 10_000, ntkN = tiny ? 100 : 5_000;
        var arch = new NetworkArchitecture { InputDimension = d, HiddenWidths = [width, width, width], OutputDimension = 1 };
        using var network = FullyConnectedNetwork<double>.Create(arch, seed: 1, backend: backend);
        var rng = new Random(7);
        var x = Matrix<double>.Build.Dense(hessianN, d, (_, _) => rng.NextDouble() - 0.5);
        var y = Matrix<double>.Build.Dense(hessianN, 1, (_, _) => rng.NextDouble() - 0.5);
        // A cap high enough for the top 10 to converge to 1e-8 (the default cap, 4k + 20 = 60, stops short on these spectra).
        var lanczos = new LanczosOptions { Count = 10, Which = SpectrumEnd.Largest, ComputeVectors = false, Tolerance = 1e-8, MaxIterations = 400, Seed = 1 };

        var clock = Stopwatch.StartNew();
        var hessian = Lanczos.Eigenpairs(SymmetricOperator.LossHessian(network, x, y), lanczos);
        Line("loss_hessian_top10", backend.Name, hessianN, width, d, clock.Elapsed.TotalSeconds, hessian.Iterations, hessian.Converged, hessian.Eigenvalues[0], network.ParameterCount);

        var xNtk = x.SubMatrix(0, ntkN, 0, d);
        clock.Restart();
        var matrixFree = TangentKernelDiagnostics.Spectrum(network, xNtk, null, new TangentKernelOptions { Method = TangentKernelMethod.Lanczos, TopCount = 10, Lanczos = lanczos });
        Line("ntk_spectrum_lanczos", backend.Name, ntkN, width, d, clock.Elapsed.TotalSeconds, matrixFree.OperatorApplications, matrixFree.Converged, matrixFree.Largest, network.ParameterCount, $",\"smallest_converged\":{(matrixFree.SmallestConverged ? "true" : "false")},\"smallest_eigenvalue\":{matrixFree.Smallest.ToString("R", CultureInfo.InvariantCulture)}");

        if (backend.Name != "native" && !tiny)
        {
            // The dense path's eigendecomposition is LAPACK's dsyevd on the native backend; the managed and ILGPU backends
            // run MathNet's single-threaded managed solver on the host, minutes at n = 5,000 (use the Lanczos path there).
            Console.Error.WriteLine($"# ntk_spectrum_dense skipped on {backend.Name}: its eigendecomposition is MathNet's managed solver on the host");
            return;
        }

        clock.Restart();
        var dense = TangentKernelDiagnostics.Spectrum(network, xNtk, null, new TangentKernelOptions { Method = TangentKernelMethod.Dense, TopCount = 10 });
        Line("ntk_spectrum_dense", backend.Name, ntkN, width, d, clock.Elapsed.TotalSeconds, dense.OperatorApplications, dense.Converged, dense.Largest, network.ParameterCount, $",\"smallest_eigenvalue\":{dense.Smallest.ToString("R", CultureInfo.InvariantCulture)}");
    }

    private static void Line(string op, string backend, int n, int width, int d, double seconds, int applications, bool converged, double top, int parameters, string extra = "") =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"op\":\"{op}\",\"backend\":\"{backend}\",\"precision\":\"double\",\"n\":{n},\"hidden\":[{width},{width},{width}],\"d\":{d},\"c\":1,\"parameters\":{parameters},\"seconds\":{seconds:F4},\"operator_applications\":{applications},\"converged\":{(converged ? "true" : "false")},\"top_eigenvalue\":{top:R}{extra}}}"));
}

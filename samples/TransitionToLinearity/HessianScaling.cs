using FeatureLearning.Compute;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples.TransitionToLinearity;

/// <summary>The output Hessian's spectral norm and the gradient norm of one network at init, for one input.</summary>
internal readonly record struct HessianMeasurement(int Width, int Seed, double HessianNorm, double GradientNorm);

/// <summary>
/// The transition to linearity (Liu, Zhu and Belkin 2020): at init the spectral norm of the output Hessian ∇²_w f of a
/// network in the NTK parameterisation shrinks like 1/√m while the gradient stays of order 1. The network: L hidden
/// layers of width m, σ_w = 1, σ_b = 0, one output; the input: ‖x‖² = d. ‖∇²f‖ is computed by Lanczos on the exact
/// output Hessian-vector product (the Hessian is never formed). For one hidden ReLU layer it is exactly 1/√m:
/// ∇²f = [[0, B], [Bᵀ, 0]] (u-block against v-block) with BᵀB = (‖x‖²/(d·m))·diag(relu′(uᵢᵀx/√d)), so its nonzero eigenvalues
/// are ±1/√m — a spectrum symmetric about 0, on which a power iteration on the Rayleigh quotient stalls.
/// </summary>
internal static class HessianScaling
{
    /// <summary>Measures one network.</summary>
    public static HessianMeasurement Measure(int width, int depth, Activation activation, int d, int seed, int lanczosSteps = 40, IComputeBackend? backend = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        var architecture = new NetworkArchitecture
        {
            InputDimension = d, HiddenWidths = Enumerable.Repeat(width, depth).ToArray(), OutputDimension = 1, Activation = activation,
            Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1,
        };
        using var network = FullyConnectedNetwork<double>.Create(architecture, seed, backend: backend);
        var normal = new Normal(0, 1, new Random(seed + 1_000_003));
        var x = Vector<double>.Build.Dense(d, _ => normal.Sample());
        var inputs = (x * (Math.Sqrt(d) / x.L2Norm())).ToRowMatrix();
        var one = Matrix<double>.Build.Dense(1, 1, 1.0);
        double gradientNorm = network.VectorJacobianProduct(inputs, one).L2Norm();

        // The library's Lanczos (full reorthogonalisation, restarts at invariant subspaces) on the exact output HVP; at most
        // lanczosSteps products, the best Ritz value if the tolerance is not met by then.
        var lanczos = Lanczos.Eigenpairs(
            SymmetricOperator.OutputHessian(network, inputs, one),
            new LanczosOptions { Count = 1, Which = SpectrumEnd.LargestMagnitude, MaxIterations = Math.Min(lanczosSteps, network.ParameterCount), ComputeVectors = false, Seed = seed });
        double hessianNorm = Math.Abs(lanczos.Eigenvalues[0]);
        return new HessianMeasurement(width, seed, hessianNorm, gradientNorm);
    }

    /// <summary>The least-squares slope of log y against log x.</summary>
    public static double LogLogSlope(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var lx = x.Select(v => Math.Log(v)).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double mx = lx.Average(), my = ly.Average();
        double sxy = lx.Zip(ly).Sum(p => (p.First - mx) * (p.Second - my));
        double sxx = lx.Sum(v => (v - mx) * (v - mx));
        return sxy / sxx;
    }
}

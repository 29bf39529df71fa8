using FeatureLearning.Compute;
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
        double hessianNorm = SpectralNorm(v => network.OutputHessianVectorProduct(inputs, one, v), network.ParameterCount, lanczosSteps, seed);
        return new HessianMeasurement(width, seed, hessianNorm, gradientNorm);
    }

    /// <summary>
    /// max |λ| of a symmetric operator by <paramref name="steps"/> Lanczos steps with full reorthogonalisation from a seeded
    /// random start (the extreme Ritz values of the tridiagonal matrix; an invariant subspace found early ends the iteration).
    /// </summary>
    public static double SpectralNorm(Func<Vector<double>, Vector<double>> apply, int dimension, int steps, int seed)
    {
        ArgumentNullException.ThrowIfNull(apply);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var normal = new Normal(0, 1, new Random(seed));
        var q = Vector<double>.Build.Dense(dimension, _ => normal.Sample());
        q /= q.L2Norm();
        var basis = new List<Vector<double>> { q };
        var alphas = new List<double>();
        var betas = new List<double>();
        var scratch = Vector<double>.Build.Dense(dimension);
        for (int j = 0; j < Math.Min(steps, dimension); j++)
        {
            var w = apply(basis[j]);
            double alpha = basis[j] * w;
            alphas.Add(alpha);
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (var b in basis)
                {
                    b.Multiply(b * w, scratch); // in place: P can be 10⁶
                    w.Subtract(scratch, w);
                }
            }

            double beta = w.L2Norm();
            double scale = alphas.Select(Math.Abs).Concat(betas).DefaultIfEmpty(0).Max();
            if (j == steps - 1 || beta <= 1e-12 * Math.Max(scale, double.Epsilon))
            {
                break;
            }

            betas.Add(beta);
            basis.Add(w / beta);
        }

        int k = alphas.Count;
        var t = Matrix<double>.Build.Dense(k, k);
        for (int i = 0; i < k; i++)
        {
            t[i, i] = alphas[i];
            if (i + 1 < k)
            {
                t[i, i + 1] = t[i + 1, i] = betas[i];
            }
        }

        return t.Evd(Symmetricity.Symmetric).EigenValues.Select(e => e.Magnitude).Max();
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

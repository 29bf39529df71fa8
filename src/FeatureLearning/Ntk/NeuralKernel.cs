using System.Numerics;
using FeatureLearning.Kernels;

namespace FeatureLearning.Ntk;

/// <summary>
/// The analytic NTK or NNGP of a fully connected network (<see cref="InfiniteWidthKernel"/>) as a kernel for the library's
/// estimators: <c>KernelRidge</c>, <c>RecursiveFeatureMachine</c> (with a metric M: the statistics become xᵀMz/d, xᵀMx/d and
/// zᵀMz/d, and the AGOP uses ∂k/∂(xᵀMz) and ∂k/∂(xᵀMx)) and ConvRFM as the base kernel on patches.
/// </summary>
/// <remarks>
/// <para>The kernel is κ(u, a, b) of u = xᵀMz, a = xᵀMx and b = zᵀMz (<see cref="KernelGeometry.InnerProductAndNorms"/>),
/// evaluated as the network kernel of the statistics u/d, a/d, b/d with d = <see cref="InputDimension"/>: with the
/// identity metric that is the neural-tangents convention Σ¹ = σ_w²·xᵀz/d + σ_b² on the raw inputs.</para>
/// <para>Rounding of the kernel-matrix GEMM can put u a few ulps outside the Cauchy–Schwarz bound √(ab) (x parallel to
/// z) or a slightly below 0: both are clamped back, since for a positive semi-definite M they hold exactly.</para>
/// <para>Cost: the layer recursion runs per pair, O(L) for the closed-form activations (ReLU, leaky ReLU, erf, linear)
/// and O(L·q²) with q = <see cref="InfiniteWidthKernel.QuadratureOrder"/> for the others (tanh, GELU, quadratic); every
/// backend evaluates it on the host (the ILGPU backend moves the statistics there and back).</para>
/// </remarks>
/// <param name="Network">The network whose kernel this is.</param>
/// <param name="InputDimension">The d of the 1/d normalisation of the statistics (the input dimension, ≥ 1).</param>
/// <param name="Kind">NTK or NNGP.</param>
public readonly record struct NeuralKernel(InfiniteWidthKernel Network, int InputDimension, NeuralKernelKind Kind = NeuralKernelKind.Ntk) : INormDependentKernel
{
    /// <summary>The NTK of <paramref name="network"/> on inputs of dimension <paramref name="inputDimension"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="inputDimension">d ≥ 1.</param>
    /// <returns>The kernel.</returns>
    public static NeuralKernel Ntk(InfiniteWidthKernel network, int inputDimension) => new(network, inputDimension, NeuralKernelKind.Ntk);

    /// <summary>The NNGP kernel of <paramref name="network"/> on inputs of dimension <paramref name="inputDimension"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="inputDimension">d ≥ 1.</param>
    /// <returns>The kernel.</returns>
    public static NeuralKernel Nngp(InfiniteWidthKernel network, int inputDimension) => new(network, inputDimension, NeuralKernelKind.Nngp);

    /// <inheritdoc />
    public KernelGeometry Geometry => KernelGeometry.InnerProductAndNorms;

    /// <inheritdoc />
    public bool IsDifferentiableAtZero => true;

    /// <inheritdoc />
    public string Name => FormattableString.Invariant($"{(Kind == NeuralKernelKind.Ntk ? "NTK" : "NNGP")}({Network.Activation.Name}, L={Network.Depth}, σ_w={Network.WeightStd:G6}, σ_b={Network.BiasStd:G6}, d={InputDimension})");

    private double Scale => 1.0 / InputDimension;

    /// <inheritdoc />
    public double Value(double u) => Value(u, 1, 1);

    /// <inheritdoc />
    public double Derivative(double u) => Derivatives(u, 1, 1).DU;

    /// <inheritdoc />
    public double Value(double u, double a, double b)
    {
        var (xx, zz, xz) = Statistics(u, a, b);
        var r = Network.Evaluate(xx, zz, xz);
        return Kind == NeuralKernelKind.Ntk ? r.Ntk : r.Nngp;
    }

    /// <inheritdoc />
    public (double DU, double DA) Derivatives(double u, double a, double b)
    {
        var (xx, zz, xz) = Statistics(u, a, b);
        var r = Network.EvaluateWithDerivatives(xx, zz, xz);
        var p = Kind == NeuralKernelKind.Ntk ? r.NtkPartials : r.NngpPartials;
        return (p.Xz * Scale, p.Xx * Scale);
    }

    /// <inheritdoc />
    public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        for (int j = 0; j < u.Length; j++)
        {
            values[j] = T.CreateTruncating(Value(double.CreateTruncating(u[j])));
        }
    }

    /// <inheritdoc />
    public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, derivatives, nameof(derivatives));
        for (int j = 0; j < u.Length; j++)
        {
            derivatives[j] = T.CreateTruncating(Derivative(double.CreateTruncating(u[j])));
        }
    }

    /// <inheritdoc />
    public void EvaluateRow<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, values, nameof(values));
        CheckNorms(u, b);
        double ad = double.CreateTruncating(a);
        for (int j = 0; j < u.Length; j++)
        {
            values[j] = T.CreateTruncating(Value(double.CreateTruncating(u[j]), ad, double.CreateTruncating(b[j])));
        }
    }

    /// <inheritdoc />
    public void EvaluateRowDerivatives<T>(ReadOnlySpan<T> u, T a, ReadOnlySpan<T> b, Span<T> du, Span<T> da)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelMath.CheckLengths(u, du, nameof(du));
        KernelMath.CheckLengths(u, da, nameof(da));
        CheckNorms(u, b);
        double ad = double.CreateTruncating(a);
        for (int j = 0; j < u.Length; j++)
        {
            var (dU, dA) = Derivatives(double.CreateTruncating(u[j]), ad, double.CreateTruncating(b[j]));
            du[j] = T.CreateTruncating(dU);
            da[j] = T.CreateTruncating(dA);
        }
    }

    /// <inheritdoc />
    public void Validate()
    {
        Network.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(InputDimension, 1, nameof(InputDimension));
        Validation.DefinedEnum(Kind, nameof(Kind));
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void CheckNorms<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> b)
    {
        if (b.Length != u.Length)
        {
            throw new ArgumentException($"The row has {u.Length} inner products but {b.Length} norms.", nameof(b));
        }
    }

    /// <summary>The network statistics (xᵀMx/d, zᵀMz/d, xᵀMz/d), with the rounding of the GEMM clamped back into range.</summary>
    private (double Xx, double Zz, double Xz) Statistics(double u, double a, double b)
    {
        double s = Scale;
        double xx = Math.Max(a, 0) * s, zz = Math.Max(b, 0) * s;
        double bound = Math.Sqrt(xx) * Math.Sqrt(zz);
        return (xx, zz, Math.Clamp(u * s, -bound, bound));
    }
}

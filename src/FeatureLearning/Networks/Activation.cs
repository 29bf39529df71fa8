using MathNet.Numerics;

namespace FeatureLearning.Networks;

/// <summary>
/// A pointwise activation φ with its first and second derivatives φ′ and φ″ (scalar, exact). At the kink of ReLU
/// and leaky ReLU φ′(0) is the left value (0, or the slope a) and φ″ = 0 everywhere: the Dirac mass at 0 is not
/// represented by these scalars (the closed forms of <see cref="Ntk.InfiniteWidthKernel"/> account for it).
/// </summary>
/// <param name="Kind">The nonlinearity.</param>
/// <param name="Slope">The negative-side slope a of <see cref="ActivationKind.LeakyRelu"/> (ignored otherwise).</param>
public readonly record struct Activation(ActivationKind Kind, double Slope = 0)
{
    private const double InvSqrtPi = 0.56418958354775628695; // 1/√π
    private const double InvSqrt2Pi = 0.39894228040143267794; // 1/√(2π)

    /// <summary>max(x, 0).</summary>
    public static Activation Relu => new(ActivationKind.Relu);

    /// <summary>tanh(x).</summary>
    public static Activation Tanh => new(ActivationKind.Tanh);

    /// <summary>erf(x).</summary>
    public static Activation Erf => new(ActivationKind.Erf);

    /// <summary>x·Φ(x) (exact GELU).</summary>
    public static Activation Gelu => new(ActivationKind.Gelu);

    /// <summary>x².</summary>
    public static Activation Quadratic => new(ActivationKind.Quadratic);

    /// <summary>x (the identity).</summary>
    public static Activation Linear => new(ActivationKind.Linear);

    /// <summary>Leaky ReLU: x for x ≥ 0, <paramref name="slope"/>·x for x &lt; 0.</summary>
    /// <param name="slope">The negative-side slope a (finite; a = 0 is ReLU, a = 1 the identity).</param>
    /// <returns>The activation.</returns>
    public static Activation LeakyRelu(double slope = 0.01) => new(ActivationKind.LeakyRelu, slope);

    /// <summary>The negative-side slope a: <see cref="Slope"/> for leaky ReLU, 0 for ReLU, 1 for linear; NaN for the smooth activations.</summary>
    internal double NegativeSlope => Kind switch
    {
        ActivationKind.Relu => 0,
        ActivationKind.LeakyRelu => Slope,
        ActivationKind.Linear => 1,
        _ => double.NaN,
    };

    /// <summary>Whether φ is piecewise linear (ReLU, leaky ReLU, linear), so that the arc-cosine closed forms apply.</summary>
    internal bool IsPiecewiseLinear => Kind is ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Linear;

    /// <summary>A short description, e.g. <c>ReLU</c> or <c>LeakyReLU(a=0.1)</c>.</summary>
    public string Name => Kind switch
    {
        ActivationKind.Relu => "ReLU",
        ActivationKind.LeakyRelu => FormattableString.Invariant($"LeakyReLU(a={Slope:G6})"),
        ActivationKind.Tanh => "tanh",
        ActivationKind.Erf => "erf",
        ActivationKind.Gelu => "GELU",
        ActivationKind.Quadratic => "quadratic",
        ActivationKind.Linear => "linear",
        _ => Kind.ToString(),
    };

    /// <summary>φ(x).</summary>
    /// <param name="x">The pre-activation.</param>
    /// <returns>The activation value.</returns>
    public double Value(double x) => Kind switch
    {
        ActivationKind.Relu => x > 0 ? x : 0,
        ActivationKind.LeakyRelu => x >= 0 ? x : Slope * x,
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Erf => SpecialFunctions.Erf(x),
        ActivationKind.Gelu => x * NormalCdf(x),
        ActivationKind.Quadratic => x * x,
        ActivationKind.Linear => x,
        _ => throw Undefined(),
    };

    /// <summary>φ′(x) (at the kink of ReLU and leaky ReLU, the left value).</summary>
    /// <param name="x">The pre-activation.</param>
    /// <returns>The first derivative.</returns>
    public double Derivative(double x)
    {
        switch (Kind)
        {
            case ActivationKind.Relu: return x > 0 ? 1 : 0;
            case ActivationKind.LeakyRelu: return x > 0 ? 1 : Slope;
            case ActivationKind.Tanh:
                double t = Math.Tanh(x);
                return 1 - (t * t);
            case ActivationKind.Erf: return 2 * InvSqrtPi * Math.Exp(-x * x);
            case ActivationKind.Gelu: return NormalCdf(x) + (x * NormalPdf(x));
            case ActivationKind.Quadratic: return 2 * x;
            case ActivationKind.Linear: return 1;
            default: throw Undefined();
        }
    }

    /// <summary>φ″(x) (0 for the piecewise-linear activations, whose Dirac mass at 0 is not represented).</summary>
    /// <param name="x">The pre-activation.</param>
    /// <returns>The second derivative.</returns>
    public double SecondDerivative(double x)
    {
        switch (Kind)
        {
            case ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Linear: return 0;
            case ActivationKind.Tanh:
                double t = Math.Tanh(x);
                return -2 * t * (1 - (t * t));
            case ActivationKind.Erf: return -4 * InvSqrtPi * x * Math.Exp(-x * x);
            case ActivationKind.Gelu: return NormalPdf(x) * (2 - (x * x));
            case ActivationKind.Quadratic: return 2;
            default: throw Undefined();
        }
    }

    /// <summary>φ‴(x), which the derivatives of the quadrature NTK need (∂E[φ′(u)φ′(v)]/∂Σ_xx = ½E[φ‴(u)φ′(v)]).</summary>
    internal double ThirdDerivative(double x)
    {
        switch (Kind)
        {
            case ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Linear or ActivationKind.Quadratic: return 0;
            case ActivationKind.Tanh:
                double t = Math.Tanh(x);
                double s = 1 - (t * t);
                return -2 * s * (1 - (3 * t * t));
            case ActivationKind.Erf: return 4 * InvSqrtPi * Math.Exp(-x * x) * ((2 * x * x) - 1);
            case ActivationKind.Gelu: return NormalPdf(x) * ((x * x * x) - (4 * x));
            default: throw Undefined();
        }
    }

    /// <summary>φ, φ′, φ″ and φ‴ at once (one transcendental call for tanh, erf and GELU), for the quadrature loops.</summary>
    internal void AllDerivatives(double x, out double d0, out double d1, out double d2, out double d3)
    {
        switch (Kind)
        {
            case ActivationKind.Tanh:
                double t = Math.Tanh(x);
                double s = 1 - (t * t);
                d0 = t;
                d1 = s;
                d2 = -2 * t * s;
                d3 = -2 * s * (1 - (3 * t * t));
                return;
            case ActivationKind.Gelu:
                double pdf = NormalPdf(x);
                double cdf = NormalCdf(x);
                d0 = x * cdf;
                d1 = cdf + (x * pdf);
                d2 = pdf * (2 - (x * x));
                d3 = pdf * ((x * x * x) - (4 * x));
                return;
            case ActivationKind.Erf:
                double e = 2 * InvSqrtPi * Math.Exp(-x * x);
                d0 = SpecialFunctions.Erf(x);
                d1 = e;
                d2 = -2 * x * e;
                d3 = 2 * e * ((2 * x * x) - 1);
                return;
            default:
                d0 = Value(x);
                d1 = Derivative(x);
                d2 = SecondDerivative(x);
                d3 = ThirdDerivative(x);
                return;
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the field when the kind is undefined or a leaky slope is not finite.</summary>
    public void Validate()
    {
        Validation.DefinedEnum(Kind, nameof(Kind));
        if (Kind == ActivationKind.LeakyRelu && !double.IsFinite(Slope))
        {
            throw new ArgumentOutOfRangeException(nameof(Slope), Slope, "The leaky ReLU slope must be finite.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static double NormalCdf(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);

    private static double NormalPdf(double x) => InvSqrt2Pi * Math.Exp(-0.5 * x * x);

    private ArgumentOutOfRangeException Undefined() =>
        new(nameof(Kind), Kind, $"{Kind} is not an {nameof(ActivationKind)}.");
}

using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Ntk;

/// <summary>
/// The analytic infinite-width NNGP and NTK of a fully connected network with <see cref="Depth"/> hidden layers, each
/// followed by <see cref="Activation"/>, then a linear readout, in NTK parameterisation and the neural-tangents
/// convention: Σ¹ = Θ¹ = σ_w²·xᵀz/d + σ_b²; then per hidden layer Σ ← σ_w²·E[φ(u)φ(v)] + σ_b² and
/// Θ ← Σ + σ_w²·E[φ′(u)φ′(v)]·Θ_prev, the expectations over the centred Gaussian (u, v) whose covariance is the
/// previous layer's [[Σ_xx, Σ_xz], [Σ_xz, Σ_zz]]. Depth 0 is the linear model Σ = Θ = σ_w²·xᵀz/d + σ_b².
/// </summary>
/// <remarks>
/// <para>The kernel is a function of three statistics of the pair: xᵀx/d, zᵀz/d and xᵀz/d, or, with a metric, xᵀMx,
/// zᵀMz and xᵀMz (the 1/d is then part of M). <see cref="Evaluate(double, double, double)"/> takes them directly;
/// <see cref="EvaluateWithDerivatives"/> also returns the partial derivatives in each of them (forward mode through
/// the layer recursion), from which ∇ₓk = ∂k/∂(xᵀMz)·Mz + 2·∂k/∂(xᵀMx)·Mx.</para>
/// <para>Expectations: closed forms for ReLU, leaky ReLU and linear (arc-cosine: E[φ(u)φ(v)] =
/// √(Σ_xxΣ_zz)·[A²ρ + B²·(2/π)(√(1−ρ²) + ρ·arcsin ρ)], E[φ′φ′] = A² + B²(1 − 2θ/π), A = (1+a)/2, B = (1−a)/2,
/// ρ = cos θ the correlation, a the negative slope) and for erf (Williams: (2/π)·arcsin(2Σ_xz/√((1+2Σ_xx)(1+2Σ_zz)))
/// and (4/π)/√((1+2Σ_xx)(1+2Σ_zz) − 4Σ_xz²)); 2-D Gauss–Hermite quadrature of order <see cref="QuadratureOrder"/>
/// per dimension (through the Cholesky factor of the 2 × 2 covariance) for tanh, GELU and quadratic. The
/// derivatives of the expectations follow from Price's theorem (∂E[f(u)g(v)]/∂Σ_xz = E[f′g′],
/// ∂/∂Σ_xx = ½E[f″g]).</para>
/// <para>Large depth: the correlation is clamped into [−1, 1] and θ = arccos ρ is computed as 2·arcsin(√((1−ρ)/2))
/// near ρ = 1, so L = 10,000 layers stay finite. A value that leaves the double range (σ_w too large for the depth)
/// throws <see cref="OverflowException"/> naming the layer; values that underflow become 0.</para>
/// <para>The ReLU-family NTK has a cusp at |ρ| = 1 (x and z parallel): there ∂E[φ′φ′]/∂ρ is infinite, and, as the
/// library does for the Laplace kernel at x = z, it is taken as 0.</para>
/// </remarks>
/// <param name="Activation">The activation φ of every hidden layer.</param>
/// <param name="Depth">The number L ≥ 0 of hidden layers.</param>
/// <param name="WeightStd">σ_w ≥ 0, the weight scale.</param>
/// <param name="BiasStd">σ_b ≥ 0, the bias scale.</param>
public readonly record struct InfiniteWidthKernel(Activation Activation, int Depth, double WeightStd = 1.0, double BiasStd = 0.0)
{
    /// <summary>The quadrature order per dimension used when <see cref="QuadratureOrder"/> is 0.</summary>
    public const int DefaultQuadratureOrder = 48;

    private const double TwoOverPi = 2 / Math.PI;
    private const double FourOverPi = 4 / Math.PI;

    /// <summary>Gauss–Hermite points per dimension for the activations without a closed form (0: <see cref="DefaultQuadratureOrder"/>; at most 400).</summary>
    public int QuadratureOrder { get; init; }

    /// <summary>Use quadrature even where a closed form exists (for checking the quadrature; slower and, for the kinked ReLU family, less accurate, and its derivatives miss the Dirac mass of φ″ there: use it for values only).</summary>
    public bool ForceQuadrature { get; init; }

    /// <summary>A short description, e.g. <c>NTK(ReLU, L=3, σ_w=1.41421, σ_b=0)</c>.</summary>
    public string Name => FormattableString.Invariant($"NTK({Activation.Name}, L={Depth}, σ_w={WeightStd:G6}, σ_b={BiasStd:G6})");

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the field that is out of range.</summary>
    public void Validate()
    {
        Activation.Validate();
        if (Depth < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "The depth (number of hidden layers) must be non-negative.");
        }

        Validation.NonNegativeFinite(WeightStd, nameof(WeightStd), "weight standard deviation σ_w");
        Validation.NonNegativeFinite(BiasStd, nameof(BiasStd), "bias standard deviation σ_b");
        if (QuadratureOrder is < 0 or > 400)
        {
            throw new ArgumentOutOfRangeException(nameof(QuadratureOrder), QuadratureOrder, "The quadrature order must be between 1 and 400 (0 for the default).");
        }
    }

    /// <summary>The NNGP and NTK of two inputs, from their statistics xᵀx/d, zᵀz/d, xᵀz/d (or xᵀMx, zᵀMz, xᵀMz).</summary>
    /// <param name="xx">xᵀx/d ≥ 0.</param>
    /// <param name="zz">zᵀz/d ≥ 0.</param>
    /// <param name="xz">xᵀz/d, with |xz| ≤ √(xx·zz) (Cauchy–Schwarz; rounding up to a relative 10⁻⁶ is clamped).</param>
    /// <returns>The kernel values.</returns>
    public NngpNtkValue Evaluate(double xx, double zz, double xz)
    {
        Validate();
        var r = Recurse(xx, zz, xz, derivatives: false);
        return new NngpNtkValue(r.Nngp, r.Ntk);
    }

    /// <summary>The NNGP and NTK of two inputs with their partial derivatives in xᵀx/d, zᵀz/d and xᵀz/d (or xᵀMx, zᵀMz, xᵀMz).</summary>
    /// <param name="xx">xᵀx/d ≥ 0.</param>
    /// <param name="zz">zᵀz/d ≥ 0.</param>
    /// <param name="xz">xᵀz/d, with |xz| ≤ √(xx·zz).</param>
    /// <returns>The values and their partial derivatives.</returns>
    public NngpNtkDerivatives EvaluateWithDerivatives(double xx, double zz, double xz)
    {
        Validate();
        return Recurse(xx, zz, xz, derivatives: true);
    }

    /// <summary>The NNGP and NTK of two input vectors of the same dimension d (statistics xᵀx/d, zᵀz/d, xᵀz/d).</summary>
    /// <param name="x">The first input.</param>
    /// <param name="z">The second input.</param>
    /// <returns>The kernel values.</returns>
    public NngpNtkValue Evaluate(Vector<double> x, Vector<double> z)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(z);
        if (x.Count != z.Count || x.Count == 0)
        {
            throw new ArgumentException($"The inputs must have the same, positive dimension ({x.Count} and {z.Count}).", nameof(z));
        }

        double d = x.Count;
        return Evaluate(x.DotProduct(x) / d, z.DotProduct(z) / d, x.DotProduct(z) / d);
    }

    /// <summary>The NNGP and NTK of many pairs at once: element i of the outputs is the kernel of (xx[i], zz[i], xz[i]).</summary>
    /// <param name="xx">xᵀx/d per pair.</param>
    /// <param name="zz">zᵀz/d per pair.</param>
    /// <param name="xz">xᵀz/d per pair.</param>
    /// <param name="nngp">Receives the NNGP values.</param>
    /// <param name="ntk">Receives the NTK values.</param>
    public void Evaluate(ReadOnlySpan<double> xx, ReadOnlySpan<double> zz, ReadOnlySpan<double> xz, Span<double> nngp, Span<double> ntk)
    {
        Validate();
        int n = xz.Length;
        if (xx.Length != n || zz.Length != n)
        {
            throw new ArgumentException($"The statistics have lengths {xx.Length}, {zz.Length} and {n}: they must be equal.", nameof(xz));
        }

        if (nngp.Length != n || ntk.Length != n)
        {
            throw new ArgumentException($"The outputs have lengths {nngp.Length} and {ntk.Length}; {n} are needed.", nngp.Length != n ? nameof(nngp) : nameof(ntk));
        }

        for (int i = 0; i < n; i++)
        {
            var r = Recurse(xx[i], zz[i], xz[i], derivatives: false);
            nngp[i] = r.Nngp;
            ntk[i] = r.Ntk;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private NngpNtkDerivatives Recurse(double xx, double zz, double xz, bool derivatives)
    {
        if (!double.IsFinite(xx) || xx < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(xx), xx, "xᵀx/d must be finite and non-negative.");
        }

        if (!double.IsFinite(zz) || zz < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(zz), zz, "zᵀz/d must be finite and non-negative.");
        }

        double bound = Math.Sqrt(xx) * Math.Sqrt(zz);
        if (!double.IsFinite(xz) || Math.Abs(xz) > (bound * (1 + 1e-6)) + double.Epsilon)
        {
            throw new ArgumentOutOfRangeException(nameof(xz), xz, FormattableString.Invariant($"xᵀz/d must be finite with |xᵀz/d| ≤ √(xᵀx/d · zᵀz/d) = {bound:G6}."));
        }

        xz = Math.Clamp(xz, -bound, bound);
        double w2 = WeightStd * WeightStd;
        double b2 = BiasStd * BiasStd;

        // Layer 1 (the input layer): Σ¹ = Θ¹ = σ_w²·s + σ_b², with the partials of every quantity in (xx, zz, xz).
        double sxx = (w2 * xx) + b2, szz = (w2 * zz) + b2, sxz = (w2 * xz) + b2, t = sxz;
        var dsxx = new G3(w2, 0, 0);
        var dszz = new G3(0, w2, 0);
        var dsxz = new G3(0, 0, w2);
        var dt = dsxz;

        for (int layer = 1; layer <= Depth; layer++)
        {
            var m = Moments(sxx, szz, sxz, derivatives);
            double nxx = (w2 * m.Vx) + b2;
            double nzz = (w2 * m.Vz) + b2;
            double nxz = (w2 * m.F) + b2;
            double nt = nxz + (w2 * m.G * t);
            if (derivatives)
            {
                var ndxx = w2 * m.DVx * dsxx;
                var ndzz = w2 * m.DVz * dszz;
                var ndxz = w2 * ((m.Fx * dsxx) + (m.Fz * dszz) + (m.G * dsxz));
                var dg = (m.Gx * dsxx) + (m.Gz * dszz) + (m.Gxz * dsxz);
                dt = ndxz + (w2 * ((t * dg) + (m.G * dt)));
                (dsxx, dszz, dsxz) = (ndxx, ndzz, ndxz);
            }

            (sxx, szz, sxz, t) = (nxx, nzz, nxz, nt);
            if (!double.IsFinite(sxx) || !double.IsFinite(szz) || !double.IsFinite(t) || (derivatives && !(dsxx.IsFinite && dszz.IsFinite && dsxz.IsFinite && dt.IsFinite)))
            {
                throw new OverflowException(FormattableString.Invariant(
                    $"The infinite-width kernel {Name} leaves the double range at hidden layer {layer} of {Depth}: the variance grows geometrically when σ_w² exceeds the activation's critical value; reduce σ_w or the depth."));
            }
        }

        return new NngpNtkDerivatives(sxz, t, dsxz.ToPartials(), dt.ToPartials());
    }

    /// <summary>The expectations one layer needs, over (u, v) ~ N(0, [[a, c], [c, b]]), with their partials.</summary>
    private LayerMoments Moments(double a, double b, double c, bool derivatives)
    {
        double bound = Math.Sqrt(a) * Math.Sqrt(b);
        c = Math.Clamp(c, -bound, bound);
        if (!ForceQuadrature && Activation.IsPiecewiseLinear)
        {
            return PiecewiseLinear(Activation.NegativeSlope, a, b, c, bound);
        }

        if (!ForceQuadrature && Activation.Kind == ActivationKind.Erf)
        {
            return ErfMoments(a, b, c);
        }

        return Quadrature(a, b, c, derivatives);
    }

    /// <summary>Arc-cosine closed forms for φ(x) = A·x + B·|x| (A = (1+a)/2, B = (1−a)/2).</summary>
    private static LayerMoments PiecewiseLinear(double slope, double a, double b, double c, double s)
    {
        double aa = 0.25 * (1 + slope) * (1 + slope);
        double bb = 0.25 * (1 - slope) * (1 - slope);
        var m = new LayerMoments { Vx = (aa + bb) * a, Vz = (aa + bb) * b, DVx = aa + bb, DVz = aa + bb };
        if (s == 0)
        {
            // One input has zero variance: u or v is identically 0, E[φ(u)φ(v)] = 0; E[φ′φ′] is taken at ρ = 0.
            m.G = aa + bb;
            return m;
        }

        double rho = Math.Clamp(c / s, -1, 1);
        double theta = Arccos(rho);
        double sin = Math.Sqrt((1 - rho) * (1 + rho));
        double arcsin = (0.5 * Math.PI) - theta;
        m.F = s * ((aa * rho) + (bb * TwoOverPi * (sin + (rho * arcsin))));
        m.G = aa + (bb * (1 - (2 * theta / Math.PI)));

        // ∂F/∂a = (s/2a)(h − ρh′) = (s/2a)·B²(2/π)·sin θ; ∂G/∂ρ = B²(2/π)/sin θ (taken as 0 on the cusp sin θ = 0).
        m.Fx = a > 0 ? 0.5 * (Math.Sqrt(b) / Math.Sqrt(a)) * bb * TwoOverPi * sin : 0;
        m.Fz = b > 0 ? 0.5 * (Math.Sqrt(a) / Math.Sqrt(b)) * bb * TwoOverPi * sin : 0;
        double dg = sin > 0 ? bb * TwoOverPi / sin : 0;
        m.Gxz = dg / s;
        m.Gx = -dg * rho / (2 * a);
        m.Gz = -dg * rho / (2 * b);
        return m;
    }

    /// <summary>Williams's closed forms for φ = erf.</summary>
    private static LayerMoments ErfMoments(double a, double b, double c)
    {
        double pa = 1 + (2 * a), pb = 1 + (2 * b);
        double p = (pa * pb) - (4 * c * c); // = 1 + 2a + 2b + 4(ab − c²) ≥ 1
        double sqrtP = Math.Sqrt(p);
        double p32 = p * sqrtP;
        var m = new LayerMoments
        {
            Vx = ErfVariance(a),
            Vz = ErfVariance(b),
            DVx = FourOverPi / (pa * Math.Sqrt(1 + (4 * a))),
            DVz = FourOverPi / (pb * Math.Sqrt(1 + (4 * b))),
            F = TwoOverPi * Math.Asin(Math.Clamp(2 * c / (Math.Sqrt(pa) * Math.Sqrt(pb)), -1, 1)),
            G = FourOverPi / sqrtP,
            Fx = -FourOverPi * c / (pa * sqrtP),
            Fz = -FourOverPi * c / (pb * sqrtP),
            Gx = -FourOverPi * pb / p32,
            Gz = -FourOverPi * pa / p32,
            Gxz = 4 * FourOverPi * c / p32,
        };
        return m;
    }

    /// <summary>E[erf(u)²] for u ~ N(0, q): (2/π)·arcsin(2q/(1+2q)) = 1 − (4/π)·arcsin(1/√(2(1+2q))), accurate for large q.</summary>
    private static double ErfVariance(double q) => 1 - (FourOverPi * Math.Asin(1 / Math.Sqrt(2 * (1 + (2 * q)))));

    /// <summary>Gauss–Hermite quadrature of the layer's expectations (u = √a·g₁, v = (c/√a)·g₁ + √(b − c²/a)·g₂).</summary>
    private LayerMoments Quadrature(double a, double b, double c, bool derivatives)
    {
        var (g, w) = GaussHermite.Rule(QuadratureOrder == 0 ? DefaultQuadratureOrder : QuadratureOrder);
        int n = g.Length;
        var phi = Activation;
        double ra = Math.Sqrt(a), rb = Math.Sqrt(b);
        double l21 = ra > 0 ? c / ra : 0;
        double l22 = ra > 0 ? Math.Sqrt(Math.Max(b - (l21 * l21), 0)) : rb;

        var m = default(LayerMoments);
        double vx = 0, vz = 0, dvx = 0, dvz = 0;
        var pu = new double[n];
        var du = new double[n];
        var d2u = new double[n];
        var d3u = new double[n];
        for (int i = 0; i < n; i++)
        {
            phi.AllDerivatives(ra * g[i], out pu[i], out du[i], out d2u[i], out d3u[i]);
            vx += w[i] * pu[i] * pu[i];
            dvx += w[i] * ((du[i] * du[i]) + (pu[i] * d2u[i]));
            phi.AllDerivatives(rb * g[i], out double p0, out double p1, out double p2, out _);
            vz += w[i] * p0 * p0;
            dvz += w[i] * ((p1 * p1) + (p0 * p2));
        }

        double f = 0, gg = 0, fx = 0, fz = 0, gx = 0, gz = 0, gxz = 0;
        for (int i = 0; i < n; i++)
        {
            // Inner sums over g₂ of φ(v), φ′(v), φ″(v), φ‴(v) for this g₁.
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int j = 0; j < n; j++)
            {
                phi.AllDerivatives((l21 * g[i]) + (l22 * g[j]), out double v0, out double v1, out double v2, out double v3);
                double wj = w[j];
                s0 += wj * v0;
                s1 += wj * v1;
                s2 += wj * v2;
                s3 += wj * v3;
            }

            double wi = w[i];
            f += wi * pu[i] * s0;
            gg += wi * du[i] * s1;
            if (derivatives)
            {
                fx += wi * d2u[i] * s0;
                fz += wi * pu[i] * s2;
                gx += wi * d3u[i] * s1;
                gz += wi * du[i] * s3;
                gxz += wi * d2u[i] * s2;
            }
        }

        m.Vx = vx;
        m.Vz = vz;
        m.DVx = dvx;
        m.DVz = dvz;
        m.F = f;
        m.G = gg;
        m.Fx = 0.5 * fx;
        m.Fz = 0.5 * fz;
        m.Gx = 0.5 * gx;
        m.Gz = 0.5 * gz;
        m.Gxz = gxz;
        return m;
    }

    /// <summary>arccos ρ, as 2·arcsin(√((1 ∓ ρ)/2)) near ±1 where arccos loses its relative accuracy.</summary>
    internal static double Arccos(double rho) => rho switch
    {
        > 0.5 => 2 * Math.Asin(Math.Sqrt(0.5 * (1 - rho))),
        < -0.5 => Math.PI - (2 * Math.Asin(Math.Sqrt(0.5 * (1 + rho)))),
        _ => Math.Acos(rho),
    };

    /// <summary>One layer's expectations: Vx = E[φ(u)²], Vz = E[φ(v)²] and their derivatives in a and b; F = E[φ(u)φ(v)] and G = E[φ′(u)φ′(v)] with their partials in (a, b, c) (∂F/∂c = G).</summary>
    private struct LayerMoments
    {
        public double Vx, Vz, DVx, DVz, F, G, Fx, Fz, Gx, Gz, Gxz;
    }

    /// <summary>A gradient in the three input statistics (xx, zz, xz).</summary>
    private readonly record struct G3(double Xx, double Zz, double Xz)
    {
        public bool IsFinite => double.IsFinite(Xx) && double.IsFinite(Zz) && double.IsFinite(Xz);

        public static G3 operator +(G3 p, G3 q) => new(p.Xx + q.Xx, p.Zz + q.Zz, p.Xz + q.Xz);

        public static G3 operator *(double s, G3 p) => new(s * p.Xx, s * p.Zz, s * p.Xz);

        public StatisticPartials ToPartials() => new(Xx, Zz, Xz);
    }
}

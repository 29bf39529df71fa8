using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Rfm;

/// <summary>
/// The AGOP of a kernel predictor f_k(x) = Σ_i α_ik k_M(x, x_i), G = (1/m) Σ_{j∈S} Σ_k ∇f_k(x_j)∇f_k(x_j)ᵀ, from
/// GEMMs and blocked elementwise work only.
/// </summary>
/// <remarks>
/// <para>With W the matrix of ∂k/∂u over (sample, centre) pairs and W' = 2W for radial kernels (∇ₓk = 2φ'(s)M(x − z)),
/// W' = W for dot-product kernels (∇ₓk = ψ'(u)Mz): ∇f_k(x_j) = M(s_jk x_j − t_jk), S = W'α, t_jk = Σ_i W'_ji α_ik x_i
/// (s = 0 for dot-product kernels). So G = M H M with H = (1/m) Σ_jk (s_jk x_j − t_jk)(s_jk x_j − t_jk)ᵀ, which the
/// Gram form evaluates as X_sᵀdiag(q)X_s − X_sᵀCX_c − X_cᵀCᵀX_s + X_cᵀ[(W'ᵀW') ∘ (ααᵀ)]X_c with q_j = Σ_k s_jk²
/// and C = W' ∘ (Sαᵀ), and the direct form from the gradients one output at a time.</para>
/// <para>Centring subtracts the mean gradient per output: with w = W'ᵀ1, Σ_j (s_jk x_j − t_jk) = X_sᵀS_k − X_cᵀ(w ∘ α_k),
/// so H_centred = H − ḠḠᵀ with Ḡ = (1/m)(X_sᵀS − X_cᵀ diag(w) α), a d × c matrix.</para>
/// <para>Self-pairs at zero distance carry W = 0 for kernels not differentiable there (the backends' kernel matrix
/// contract), which omits them.</para>
/// </remarks>
internal static class AgopEngine
{
    /// <summary>Flop estimates of the two forms.</summary>
    public static (double Direct, double Gram) Cost(int m, int n, int d, int c)
    {
        double direct = (c * ((2.0 * m * n * d) + ((double)m * d * d))) + (2.0 * m * n * c);
        double gram = ((double)m * n * n) + ((double)n * n * c) + (4.0 * m * n * c) + (2.0 * m * n * d) + (2.0 * n * n * d) + (4.0 * m * d * d);
        return (direct, gram);
    }

    public static AgopForm Resolve(AgopForm form, int m, int n, int d, int c)
    {
        if (form != AgopForm.Auto)
        {
            return form;
        }

        var (direct, gram) = Cost(m, n, d, c);
        return direct <= gram ? AgopForm.Direct : AgopForm.Gram;
    }

    /// <summary>
    /// Computes the d × d AGOP (row-major, double) of the predictor with centres <paramref name="xc"/> and coefficients
    /// <paramref name="alpha"/> at the sample <paramref name="xs"/>, given the derivative weights
    /// <paramref name="weights"/> (m × n, ∂k/∂u; overwritten).
    /// </summary>
    public static double[] Compute<T>(
        IComputeBackend backend, IKernelFunction kernel, Metric metric, DeviceBuffer<T>? metricBuffer,
        DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> weights, bool centre, AgopForm form, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = xs.Rows, n = xc.Rows, d = xc.Cols, c = alpha.Cols;
        bool radial = kernel.Geometry == KernelGeometry.Radial;
        if (radial)
        {
            backend.Scale(T.CreateTruncating(2), weights);
        }

        using var h = backend.Allocate<T>(d, d);
        DeviceBuffer<T>? s = null;
        try
        {
            if (radial)
            {
                s = backend.Allocate<T>(m, c);
                backend.Gemm(Transpose.None, Transpose.None, T.One, weights, alpha, T.Zero, s);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (Resolve(form, m, n, d, c) == AgopForm.Gram)
            {
                GramForm(backend, xs, xc, alpha, weights, s, h);
            }
            else
            {
                DirectForm(backend, xs, xc, alpha, weights, s, h, cancellationToken);
            }

            backend.Scale(T.One / T.CreateTruncating(m), h);
            if (centre)
            {
                SubtractMeanGradient(backend, xs, xc, alpha, weights, s, h);
            }

            cancellationToken.ThrowIfCancellationRequested();
            ApplyMetric(backend, metric, metricBuffer, h);
            var result = new T[d * d];
            backend.Download(h, result);
            var g = new double[d * d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    // Symmetrize away the rounding of the two one-sided products.
                    g[(i * d) + j] = 0.5 * (double.CreateTruncating(result[(i * d) + j]) + double.CreateTruncating(result[(j * d) + i]));
                }
            }

            return g;
        }
        finally
        {
            s?.Dispose();
        }
    }

    private static void GramForm<T>(IComputeBackend backend, DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> w, DeviceBuffer<T>? s, DeviceBuffer<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = xs.Rows, n = xc.Rows, d = xc.Cols;
        backend.Scale(T.Zero, h);
        if (s is not null)
        {
            // X_sᵀ diag(q) X_s
            using (var q = backend.Allocate<T>(m, 1))
            using (var xq = backend.Allocate<T>(m, d))
            {
                backend.RowDot(s, s, q);
                backend.Copy(xs, xq);
                backend.ScaleRows(xq, q);
                backend.Gemm(Transpose.Transpose, Transpose.None, T.One, xs, xq, T.Zero, h);
            }

            // − X_sᵀ C X_c − X_cᵀ Cᵀ X_s with C = W' ∘ (S αᵀ)
            using var cx = backend.Allocate<T>(m, d);
            using (var cm = backend.Allocate<T>(m, n))
            {
                backend.Gemm(Transpose.None, Transpose.Transpose, T.One, s, alpha, T.Zero, cm);
                backend.Hadamard(w, cm, cm);
                backend.Gemm(Transpose.None, Transpose.None, T.One, cm, xc, T.Zero, cx);
            }

            backend.Gemm(Transpose.Transpose, Transpose.None, -T.One, xs, cx, T.One, h);
            backend.Gemm(Transpose.Transpose, Transpose.None, -T.One, cx, xs, T.One, h);
        }

        // + X_cᵀ [(W'ᵀW') ∘ (ααᵀ)] X_c
        using var p = backend.Allocate<T>(n, n);
        backend.Syrk(Transpose.Transpose, T.One, w, T.Zero, p);
        using (var aat = backend.Allocate<T>(n, n))
        {
            backend.Syrk(Transpose.None, T.One, alpha, T.Zero, aat);
            backend.Hadamard(p, aat, p);
        }

        using var px = backend.Allocate<T>(n, d);
        backend.Gemm(Transpose.None, Transpose.None, T.One, p, xc, T.Zero, px);
        backend.Gemm(Transpose.Transpose, Transpose.None, T.One, xc, px, T.One, h);
    }

    private static void DirectForm<T>(
        IComputeBackend backend, DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> w, DeviceBuffer<T>? s, DeviceBuffer<T> h, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = xs.Rows, n = xc.Rows, d = xc.Cols, c = alpha.Cols;
        if (c > 1 && (long)c * d * 5 <= Math.Min(n, m))
        {
            BatchedDirectForm(backend, xs, xc, alpha, w, s, h);
            return;
        }

        var alphaHost = new T[n * c];
        backend.Download(alpha, alphaHost);
        var sHost = s is null ? null : new T[m * c];
        if (s is not null)
        {
            backend.Download(s, sHost);
        }

        backend.Scale(T.Zero, h);
        using var column = backend.Allocate<T>(n, 1);
        using var sColumn = backend.Allocate<T>(m, 1);
        using var scaled = backend.Allocate<T>(n, d);
        using var gradients = backend.Allocate<T>(m, d);
        using var selfTerm = backend.Allocate<T>(m, d);
        var host = new T[Math.Max(n, m)];
        for (int k = 0; k < c; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < n; i++)
            {
                host[i] = alphaHost[(i * c) + k];
            }

            backend.Upload<T>(host.AsSpan(0, n), column);
            backend.Copy(xc, scaled);
            backend.ScaleRows(scaled, column);

            // t_k = W'(α_k ∘ X_c); gradient (up to M) = diag(S_k) X_s − t_k, or t_k alone for dot-product kernels.
            backend.Gemm(Transpose.None, Transpose.None, sHost is null ? T.One : -T.One, w, scaled, T.Zero, gradients);
            if (sHost is not null)
            {
                for (int j = 0; j < m; j++)
                {
                    host[j] = sHost[(j * c) + k];
                }

                backend.Upload<T>(host.AsSpan(0, m), sColumn);
                backend.Copy(xs, selfTerm);
                backend.ScaleRows(selfTerm, sColumn);
                backend.Axpy(T.One, selfTerm, gradients);
            }

            backend.Syrk(Transpose.Transpose, T.One, gradients, T.One, h);
        }
    }

    /// <summary>
    /// The direct form for all outputs in one GEMM: with A⊗X the row-wise Kronecker product (row i = vec(α_i ⊗ x_i)),
    /// R = S⊗X_s − W'(α⊗X_c) holds every output's gradients side by side (m × c·d), and H = Σ_k R_kᵀR_k is the sum of the
    /// diagonal d × d blocks of RᵀR. One GEMM with c·d columns reads W' once instead of c times; the SYRK of R costs
    /// m(c·d)², a fifth of the GEMM or less under the condition the caller checks (c·d ≤ min(n, m)/5), which also keeps R
    /// smaller than W'.
    /// </summary>
    private static void BatchedDirectForm<T>(IComputeBackend backend, DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> w, DeviceBuffer<T>? s, DeviceBuffer<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = xs.Rows, n = xc.Rows, d = xc.Cols, c = alpha.Cols, cd = c * d;
        using var r = backend.Allocate<T>(m, cd);
        using (var scaled = backend.Allocate<T>(n, cd))
        {
            backend.RowKronecker(alpha, xc, scaled);
            backend.Gemm(Transpose.None, Transpose.None, s is null ? T.One : -T.One, w, scaled, T.Zero, r);
        }

        if (s is not null)
        {
            using var self = backend.Allocate<T>(m, cd);
            backend.RowKronecker(s, xs, self);
            backend.Axpy(T.One, self, r);
        }

        using var rr = backend.Allocate<T>(cd, cd);
        backend.Syrk(Transpose.Transpose, T.One, r, T.Zero, rr);
        var all = new T[cd * cd];
        backend.Download(rr, all);
        var sum = new T[d * d];
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    sum[(i * d) + j] += all[((((k * d) + i) * cd) + (k * d)) + j];
                }
            }
        }

        backend.Upload<T>(sum, h);
    }

    private static void SubtractMeanGradient<T>(IComputeBackend backend, DeviceBuffer<T> xs, DeviceBuffer<T> xc, DeviceBuffer<T> alpha, DeviceBuffer<T> w, DeviceBuffer<T>? s, DeviceBuffer<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = xs.Rows, n = xc.Rows, d = xc.Cols, c = alpha.Cols;
        T invM = T.One / T.CreateTruncating(m);
        using var mean = backend.Allocate<T>(d, c);
        using var ones = backend.Upload<T>(Enumerable.Repeat(T.One, m).ToArray(), m, 1);
        using var wsum = backend.Allocate<T>(n, 1);
        using var weighted = backend.Allocate<T>(n, c);
        backend.Gemm(Transpose.Transpose, Transpose.None, T.One, w, ones, T.Zero, wsum);
        backend.Copy(alpha, weighted);
        backend.ScaleRows(weighted, wsum);

        // Ḡ = (1/m)(X_sᵀS − X_cᵀ diag(w) α)
        backend.Gemm(Transpose.Transpose, Transpose.None, -invM, xc, weighted, T.Zero, mean);
        if (s is not null)
        {
            backend.Gemm(Transpose.Transpose, Transpose.None, invM, xs, s, T.One, mean);
        }

        backend.Gemm(Transpose.None, Transpose.Transpose, -T.One, mean, mean, T.One, h);
    }

    /// <summary>H ← M H M.</summary>
    private static void ApplyMetric<T>(IComputeBackend backend, Metric metric, DeviceBuffer<T>? metricBuffer, DeviceBuffer<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (metric.Kind)
        {
            case MetricKind.Identity:
                return;
            case MetricKind.Diagonal:
                backend.ScaleColumns(h, metricBuffer!);
                backend.ScaleRows(h, metricBuffer!);
                return;
            default:
                int d = h.Rows;
                using (var mh = backend.Allocate<T>(d, d))
                {
                    backend.Gemm(Transpose.None, Transpose.None, T.One, metricBuffer!, h, T.Zero, mh);
                    backend.Gemm(Transpose.None, Transpose.None, T.One, mh, metricBuffer!, T.Zero, h);
                }

                return;
        }
    }
}

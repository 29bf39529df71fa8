using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FeatureLearning.Compute;

/// <summary>
/// The eigendecomposition of a symmetric matrix on the host, in double precision: Householder reduction to tridiagonal form,
/// then the implicit QL iteration with Wilkinson-type shifts (the classic tred2/tql2 pair of Bowdler, Martin, Reinsch and
/// Wilkinson), laid out for row-major storage and SIMD. Every pass over the matrix is over contiguous rows: the reduction's
/// products and rank-two updates are row dot products and AXPYs, and the eigenvectors are accumulated transposed, so that each
/// plane rotation combines two contiguous rows.
/// </summary>
/// <remarks>
/// The matrix is scaled to a largest entry of 1 first. An off-diagonal element of T counts as zero below 2⁻⁵² times the
/// largest |d_i| + |e_i| of the whole of T (an absolute, backward-stable criterion). The reduction updates the whole trailing
/// block (2n³ flops instead of the symmetric-aware 4n³/3) in exchange for purely row-wise passes. The iteration stops with
/// an <see cref="ArithmeticException"/> if an eigenvalue takes more than <see cref="MaxIterationsPerValue"/> sweeps, which
/// for a finite symmetric matrix does not happen in practice.
/// </remarks>
internal static class SymmetricEigenSolver
{
    /// <summary>The most QL sweeps for one eigenvalue before the solver gives up.</summary>
    internal const int MaxIterationsPerValue = 60;

    // The vector widths of the inner loops, restricted like the GEMM by FEATURELEARNING_SIMD (so CI covers each path).
    private static readonly bool Use512 = Managed.SimdSetting.Use512;
    private static readonly bool Use256 = Managed.SimdSetting.Use256;

    /// <summary>2⁻⁵², the spacing of doubles at 1: an off-diagonal element below it times the scale of T is negligible.</summary>
    private const double Unit = 2.220446049250313e-16;

    /// <summary>
    /// Decomposes the symmetric row-major n × n matrix <paramref name="a"/> (only read): A = V diag(λ) Vᵀ.
    /// </summary>
    /// <param name="a">The matrix, n × n row-major; symmetry is assumed (the full matrix is read).</param>
    /// <param name="n">Its order.</param>
    /// <returns>The eigenvalues in ascending order and the row-major eigenvector matrix (column j belongs to value j).</returns>
    /// <exception cref="ArgumentException">The matrix has a non-finite entry.</exception>
    /// <exception cref="ArithmeticException">The iteration did not converge.</exception>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> a, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (a.Length < (long)n * n)
        {
            throw new ArgumentException($"The matrix has {a.Length} elements; an {n} x {n} matrix needs {(long)n * n}.", nameof(a));
        }

        if (n > 0 && !TensorPrimitives.IsFiniteAll(a[..(n * n)]))
        {
            throw new ArgumentException("The matrix has a non-finite entry.", nameof(a));
        }

        // Scaled to a largest entry of 1, so that the reduction's sums of squares neither overflow nor lose the small entries
        // to underflow; the eigenvalues are scaled back.
        var w = a[..(n * n)].ToArray();
        double largest = n == 0 ? 0 : TensorPrimitives.MaxMagnitude(w);
        if (largest > 0 && largest != 1)
        {
            TensorPrimitives.Divide(w, largest, w);
        }

        var d = new double[n];
        var e = new double[n];
        var zt = Tridiagonalize(w, n, d, e);
        Iterate(d, e, zt, n);
        if (largest > 0 && largest != 1)
        {
            TensorPrimitives.Multiply(d, largest, d);
        }

        // Ascending order; column j of the result is row j of Zᵀ.
        var order = Enumerable.Range(0, n).OrderBy(i => d[i]).ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            values[j] = d[order[j]];
            int row = order[j] * n;
            for (int i = 0; i < n; i++)
            {
                vectors[(i * n) + j] = zt[row + i];
            }
        }

        return (values, vectors);
    }

    /// <summary>
    /// Reduces W (overwritten) to tridiagonal form T = QᵀWQ: diagonal <paramref name="d"/>, off-diagonal
    /// <paramref name="e"/> (e[k] couples k and k + 1; e[n − 1] = 0). Returns Qᵀ, row-major.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double[] Tridiagonalize(double[] w, int n, double[] d, double[] e)
    {
        var beta = new double[n];
        var p = new double[n];
        var u = new double[n];
        for (int k = 0; k + 2 < n; k++)
        {
            // The reflector H = I − β v vᵀ that maps x = W[k, k+1:] (the row, equal to the column below the diagonal) onto
            // α e₁, with v₀ = x₀ − α and α of the opposite sign to x₀ (no cancellation). v is kept in row k for Q.
            int m = n - k - 1;
            var x = w.AsSpan((k * n) + k + 1, m);
            double tail = Dot(x[1..], x[1..]);
            if (tail == 0)
            {
                e[k] = x[0];
                beta[k] = 0;
                continue;
            }

            double x0 = x[0], norm = Math.Sqrt((x0 * x0) + tail);
            double alpha = x0 > 0 ? -norm : norm;
            x[0] = x0 - alpha;
            double b = 2 / ((x[0] * x[0]) + tail);
            beta[k] = b;
            e[k] = alpha;

            // p = β W' v, w = p − (β pᵀv / 2) v, then W' ← W' − v wᵀ − w vᵀ on the trailing block W' = W[k+1:, k+1:].
            var pk = p.AsSpan(0, m);
            for (int i = 0; i < m; i++)
            {
                pk[i] = b * Dot(w.AsSpan(((k + 1 + i) * n) + k + 1, m), x);
            }

            double kappa = 0.5 * b * Dot(pk, x);
            AddScaled(x, -kappa, pk);
            for (int i = 0; i < m; i++)
            {
                var row = w.AsSpan(((k + 1 + i) * n) + k + 1, m);
                AddScaled(pk, -x[i], row);
                AddScaled(x, -pk[i], row);
            }
        }

        for (int k = 0; k < n; k++)
        {
            d[k] = w[(k * n) + k];
        }

        if (n >= 2)
        {
            e[n - 2] = w[((n - 2) * n) + n - 1];
        }

        if (n >= 1)
        {
            e[n - 1] = 0;
        }

        // Q = H_0 H_1 ⋯ H_{n−3}, accumulated backwards in place of nothing: Q ← H_k Q touches the block Q[k+1:, k+1:] only,
        // as Q[k+1:, k+1:] −= β v (vᵀ Q[k+1:, k+1:]), with vᵀQ a sum of rows.
        var q = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            q[(i * n) + i] = 1;
        }

        for (int k = n - 3; k >= 0; k--)
        {
            if (beta[k] == 0)
            {
                continue;
            }

            int m = n - k - 1;
            var v = w.AsSpan((k * n) + k + 1, m);
            var uk = u.AsSpan(0, m);
            uk.Clear();
            for (int i = 0; i < m; i++)
            {
                AddScaled(q.AsSpan(((k + 1 + i) * n) + k + 1, m), v[i], uk);
            }

            for (int i = 0; i < m; i++)
            {
                var row = q.AsSpan(((k + 1 + i) * n) + k + 1, m);
                AddScaled(uk, -beta[k] * v[i], row);
            }
        }

        // Qᵀ, so that the iteration's rotations of columns of Q are rotations of contiguous rows.
        var qt = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                qt[(j * n) + i] = q[(i * n) + j];
            }
        }

        return qt;
    }

    /// <summary>
    /// The implicit QL iteration on the tridiagonal (d, e) (e[i] couples i and i + 1), the rotations accumulated into the
    /// rows of Zᵀ; on return d holds the eigenvalues (unsorted) and row i of Zᵀ the eigenvector of d[i].
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Iterate(double[] d, double[] e, double[] zt, int n)
    {
        double shift = 0, scale = 0;
        for (int i = 0; i < n; i++)
        {
            scale = Math.Max(scale, Math.Abs(d[i]) + Math.Abs(e[i]));
        }

        for (int l = 0; l < n; l++)
        {
            // Find the first negligible off-diagonal element at or after l.
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > double.Epsilon + (Unit * scale))
            {
                m++;
            }

            if (m > l)
            {
                int iterations = 0;
                do
                {
                    if (++iterations > MaxIterationsPerValue)
                    {
                        throw new ArithmeticException($"The symmetric eigensolver did not converge for eigenvalue {l} of {n} after {MaxIterationsPerValue} sweeps.");
                    }

                    // Shift from the leading 2 × 2 block.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = double.Hypot(p, 1);
                    if (p < 0)
                    {
                        r = -r;
                    }

                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++)
                    {
                        d[i] -= h;
                    }

                    shift += h;

                    // The implicit QL sweep from m − 1 down to l.
                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
                    double el1 = e[l + 1];
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = double.Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = (c * d[i]) - (s * g);
                        d[i + 1] = h + (s * ((c * g) + (s * d[i])));
                        Rotate(zt.AsSpan(i * n, n), zt.AsSpan((i + 1) * n, n), c, s);
                    }

                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > double.Epsilon + (Unit * scale));
            }

            d[l] += shift;
            e[l] = 0;
        }
    }

    /// <summary>
    /// xᵀy. The reduction's inner loops are written here rather than taken from TensorPrimitives so that they are compiled
    /// fully optimised on first use: an RFM fit decomposes a handful of metrics, too few for tiered compilation to catch up.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int j = 0;
        double sum = 0;
        if (Use512 && x.Length >= Vector512<double>.Count)
        {
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            var acc = Vector512<double>.Zero;
            for (; j <= x.Length - Vector512<double>.Count; j += Vector512<double>.Count)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)j), Vector512.LoadUnsafe(ref yr, (nuint)j), acc);
            }

            sum = Vector512.Sum(acc);
        }
        else if (Use256 && x.Length >= Vector256<double>.Count)
        {
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            var acc = Vector256<double>.Zero;
            for (; j <= x.Length - Vector256<double>.Count; j += Vector256<double>.Count)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)j), Vector256.LoadUnsafe(ref yr, (nuint)j), acc);
            }

            sum = Vector256.Sum(acc);
        }

        for (; j < x.Length; j++)
        {
            sum += x[j] * y[j];
        }

        return sum;
    }

    /// <summary>y ← y + s·x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void AddScaled(ReadOnlySpan<double> x, double s, Span<double> y)
    {
        int j = 0;
        if (Use512)
        {
            var vs = Vector512.Create(s);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            for (; j <= x.Length - Vector512<double>.Count; j += Vector512<double>.Count)
            {
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)j), vs, Vector512.LoadUnsafe(ref yr, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
            }
        }
        else if (Use256)
        {
            var vs = Vector256.Create(s);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            for (; j <= x.Length - Vector256<double>.Count; j += Vector256<double>.Count)
            {
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)j), vs, Vector256.LoadUnsafe(ref yr, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
            }
        }

        for (; j < x.Length; j++)
        {
            y[j] += s * x[j];
        }
    }

    /// <summary>(x, y) ← (c·x − s·y, s·x + c·y), element-wise.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        int j = 0;
        if (Use512)
        {
            var vc = Vector512.Create(c);
            var vs = Vector512.Create(s);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            for (; j <= x.Length - Vector512<double>.Count; j += Vector512<double>.Count)
            {
                var xv = Vector512.LoadUnsafe(ref xr, (nuint)j);
                var yv = Vector512.LoadUnsafe(ref yr, (nuint)j);
                ((vc * xv) - (vs * yv)).StoreUnsafe(ref xr, (nuint)j);
                ((vs * xv) + (vc * yv)).StoreUnsafe(ref yr, (nuint)j);
            }
        }
        else if (Use256)
        {
            var vc = Vector256.Create(c);
            var vs = Vector256.Create(s);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            for (; j <= x.Length - Vector256<double>.Count; j += Vector256<double>.Count)
            {
                var xv = Vector256.LoadUnsafe(ref xr, (nuint)j);
                var yv = Vector256.LoadUnsafe(ref yr, (nuint)j);
                ((vc * xv) - (vs * yv)).StoreUnsafe(ref xr, (nuint)j);
                ((vs * xv) + (vc * yv)).StoreUnsafe(ref yr, (nuint)j);
            }
        }

        for (; j < x.Length; j++)
        {
            double xv = x[j], yv = y[j];
            x[j] = (c * xv) - (s * yv);
            y[j] = (s * xv) + (c * yv);
        }
    }
}

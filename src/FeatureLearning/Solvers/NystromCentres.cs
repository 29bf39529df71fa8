using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Solvers;

/// <summary>The seeded choice of the Nyström centres (<see cref="CentreSelection"/>).</summary>
internal static class NystromCentres
{
    /// <summary>Largest pilot set of <see cref="CentreSelection.ApproximateLeverage"/>.</summary>
    internal const int MaxPilot = 1024;

    /// <summary>min(m, n) distinct row indices of the n training points, increasing.</summary>
    /// <param name="be">The backend (for the leverage scores).</param>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">The training inputs on the device, n × d.</param>
    /// <param name="metric">The uploaded metric.</param>
    /// <param name="ridge">λ of the fit (regularises the leverage scores).</param>
    /// <param name="options">The solver options.</param>
    /// <param name="cholesky">Jitter policy of the pilot factorization.</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    public static int[] Select<T>(
        IComputeBackend be, IKernelFunction kernel, DeviceBuffer<T> x, DeviceBuffer<T>? metric, double ridge, NystromSolver options, CholeskyOptions cholesky,
        CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Rows, m = Math.Min(options.Centres, n);
        if (m == n || options.Selection == CentreSelection.Uniform)
        {
            return Rfm.SeededSample.Indices(n, m, options.Seed);
        }

        var scores = LeverageScores(be, kernel, x, metric, ridge, Math.Min(m, MaxPilot), options.Seed, options.BlockRows, cholesky, cancellationToken);
        return WeightedSample(scores, m, options.Seed);
    }

    /// <summary>
    /// Approximate ridge leverage scores up to a common factor: k_ii − k_iSᵀ(K_SS + λ(s/n)I)⁻¹k_iS over a uniform pilot S of
    /// <paramref name="s"/> points (the seeded sample of <see cref="Rfm.SeededSample"/> with seed + 1), K_Sb formed and
    /// solved one row block at a time (s × block memory).
    /// </summary>
    internal static double[] LeverageScores<T>(
        IComputeBackend be, IKernelFunction kernel, DeviceBuffer<T> x, DeviceBuffer<T>? metric, double ridge, int s, int seed, int blockRows,
        CholeskyOptions cholesky, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Rows, d = x.Cols;
        var pilot = Rfm.SeededSample.Indices(n, s, unchecked(seed + 1));
        using var xs = be.Allocate<T>(s, d);
        for (int j = 0; j < s; j++)
        {
            using var from = x.RowRange(pilot[j], 1);
            using var to = xs.RowRange(j, 1);
            be.Copy(from, to);
        }

        using var kss = be.Allocate<T>(s, s);
        be.KernelMatrix(kernel, xs, xs, metric, kss);
        if (ridge > 0)
        {
            be.AddDiagonal(kss, T.CreateTruncating(ridge * s / n));
        }

        be.CholeskyFactor(kss, cholesky, cancellationToken);
        int b = Math.Min(Math.Min(blockRows, 256), n);
        using var ksb = be.Allocate<T>(s, b);
        using var solved = be.Allocate<T>(s, b);
        using var ones = be.Upload<T>(Enumerable.Repeat(T.One, s).ToArray(), s, 1);
        using var q = be.Allocate<T>(b, 1);
        using var self = be.Allocate<T>(b, b);
        var scores = new double[n];
        var qHost = new T[b];
        var selfHost = new T[b * b];
        bool radial = kernel.Geometry == KernelGeometry.Radial;
        for (int i0 = 0; i0 < n; i0 += b)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(b, n - i0);
            using var xb = x.RowRange(i0, rows);
            using var kb = ksb.ColumnRange(0, rows);
            using var wb = solved.ColumnRange(0, rows);
            using var qb = q.RowRange(0, rows);
            be.KernelMatrix(kernel, xs, xb, metric, kb);
            be.Copy(kb, wb);
            be.CholeskySolve(kss, wb);
            be.Hadamard(kb, wb, wb);
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, wb, ones, T.Zero, qb);
            be.Download(qb, qHost.AsSpan(0, rows));

            // k_ii: φ(0) for a radial kernel (one pair), otherwise the diagonal of the block's own kernel matrix.
            int selfRows = radial ? 1 : rows;
            using var sb = self.Slice(0, selfRows, 0, selfRows);
            using var xself = x.RowRange(i0, selfRows);
            be.KernelMatrix(kernel, xself, xself, metric, sb);
            be.Download(sb, selfHost.AsSpan(0, selfRows * selfRows));
            for (int i = 0; i < rows; i++)
            {
                double kii = double.CreateTruncating(selfHost[radial ? 0 : i * (selfRows + 1)]);
                scores[i0 + i] = Math.Max(kii - double.CreateTruncating(qHost[i]), 0);
            }
        }

        return scores;
    }

    /// <summary>
    /// m indices drawn without replacement with probabilities proportional to the scores (Efraimidis–Spirakis keys
    /// log(u)/w, the m largest), every score floored at 10⁻³ of the mean so no point is excluded; increasing order.
    /// </summary>
    private static int[] WeightedSample(double[] scores, int m, int seed)
    {
        double floor = 1e-3 * Math.Max(scores.Average(), double.Epsilon);
        var random = new Random(seed);
        var keys = new double[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Math.Log(1 - random.NextDouble()) / Math.Max(scores[i], floor);
        }

        var order = Enumerable.Range(0, scores.Length).ToArray();
        Array.Sort(keys, order);
        var chosen = order[^m..];
        Array.Sort(chosen);
        return chosen;
    }
}

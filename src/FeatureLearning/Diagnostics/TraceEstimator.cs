using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// Stochastic estimates of the trace and the diagonal of a symmetric operator from its products with random sign
/// (Rademacher) vectors: Hutchinson's estimator and Hutch++ (Meyer, Musco, Musco and Woodruff, 2021).
/// </summary>
/// <remarks>
/// Stopping is on the standard error, in absolute terms (<c>tolerance</c>): a rule on the relative change of the running
/// mean divides by that mean and stops far too early when the trace is near 0. Probes are drawn from a seeded generator
/// and applied in blocks (one <see cref="ISymmetricOperator{T}.Apply"/> per block).
/// </remarks>
public static class TraceEstimator
{
    /// <summary>Hutchinson: tr(A) ≈ mean of zᵀAz over Rademacher probes z.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="operator">A.</param>
    /// <param name="probes">The most probes (products), at least 2.</param>
    /// <param name="seed">Seed of the probes.</param>
    /// <param name="tolerance">Stop once the standard error is at most this (absolute; after at least 10 probes); 0: use every probe.</param>
    /// <param name="blockSize">Probes per application.</param>
    /// <param name="cancellationToken">Checked before each block.</param>
    /// <returns>The estimate, its standard error and the products used.</returns>
    public static TraceEstimate Hutchinson<T>(ISymmetricOperator<T> @operator, int probes, int seed = 0, double tolerance = 0, int blockSize = 8, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(@operator);
        CheckCounts(probes, 2, nameof(probes), blockSize);
        Validation.NonNegativeFinite(tolerance, nameof(tolerance), "tolerance");
        var random = new Random(seed);
        var terms = new List<double>();
        while (terms.Count < probes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(blockSize, probes - terms.Count);
            var z = Rademacher<T>(@operator.Dimension, b, random);
            var az = Apply(@operator, z);
            for (int j = 0; j < b; j++)
            {
                terms.Add(ColumnDot(z, az, j));
            }

            if (tolerance > 0 && terms.Count >= 10 && StandardError(terms) <= tolerance)
            {
                break;
            }
        }

        return new TraceEstimate(terms.Average(), StandardError(terms), terms.Count);
    }

    /// <summary>
    /// Hutch++: a third of the products sketch the range of A (Q = orth(A·S)), tr(QᵀAQ) is computed exactly (a second
    /// third), and Hutchinson on the deflated (I − QQᵀ)A(I − QQᵀ) takes the rest. For a matrix with a few large
    /// eigenvalues the error falls like 1/products instead of 1/√products.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="operator">A.</param>
    /// <param name="products">Total operator applications (matrix–vector products), at least 3.</param>
    /// <param name="seed">Seed of the sketch and the probes.</param>
    /// <param name="cancellationToken">Checked between the three phases.</param>
    /// <returns>The estimate, the standard error of its Hutchinson part (+∞ with a single residual probe, i.e. 3 products)
    /// and the products actually used (fewer when the sketch has lower rank).</returns>
    public static TraceEstimate HutchPlusPlus<T>(ISymmetricOperator<T> @operator, int products, int seed = 0, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(@operator);
        CheckCounts(products, 3, nameof(products), 1);
        int n = @operator.Dimension;
        int sketch = Math.Min(products / 3, n), rest = products - (2 * sketch);
        var random = new Random(seed);
        var s = Rademacher<T>(n, sketch, random);
        var q = Orthonormal(Apply(@operator, s));
        cancellationToken.ThrowIfCancellationRequested();
        var aq = Apply(@operator, q);
        double exact = 0;
        for (int j = 0; j < q.ColumnCount; j++)
        {
            exact += ColumnDot(q, aq, j);
        }

        var terms = new List<double>();
        if (rest > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var g = Rademacher<T>(n, rest, random);
            var deflated = g - (q * q.TransposeThisAndMultiply(g));
            var ag = Apply(@operator, deflated);
            for (int j = 0; j < rest; j++)
            {
                terms.Add(ColumnDot(deflated, ag, j));
            }
        }

        double residual = terms.Count > 0 ? terms.Average() : 0;
        // One residual probe gives no spread to estimate: its standard error is unknown (+∞), not 0. With none, the sketch
        // spans the whole space (or A's range) and the trace is exact.
        double error = terms.Count > 1 ? StandardError(terms) : terms.Count == 1 ? double.PositiveInfinity : 0;
        return new TraceEstimate(exact + residual, error, sketch + q.ColumnCount + rest);
    }

    /// <summary>The diagonal of A by Hutchinson's sketch: diag(A) ≈ mean of z ∘ Az (Bekas, Kokiopoulou and Saad, 2007).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="operator">A.</param>
    /// <param name="probes">Probes (products), at least 2.</param>
    /// <param name="seed">Seed of the probes.</param>
    /// <param name="blockSize">Probes per application.</param>
    /// <param name="cancellationToken">Checked before each block.</param>
    /// <returns>The estimated diagonal and the standard error of each entry.</returns>
    public static (double[] Diagonal, double[] StandardErrors) Diagonal<T>(ISymmetricOperator<T> @operator, int probes, int seed = 0, int blockSize = 8, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(@operator);
        CheckCounts(probes, 2, nameof(probes), blockSize);
        int n = @operator.Dimension;
        var random = new Random(seed);
        var sum = new double[n];
        var sumSquares = new double[n];
        for (int done = 0; done < probes;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(blockSize, probes - done);
            var z = Rademacher<T>(n, b, random);
            var az = Apply(@operator, z);
            for (int j = 0; j < b; j++)
            {
                for (int i = 0; i < n; i++)
                {
                    double t = double.CreateChecked(z[i, j]) * double.CreateChecked(az[i, j]);
                    sum[i] += t;
                    sumSquares[i] += t * t;
                }
            }

            done += b;
        }

        var mean = sum.Select(v => v / probes).ToArray();
        var errors = mean.Select((m, i) => Math.Sqrt(Math.Max(0, (sumSquares[i] / probes) - (m * m)) * probes / (probes - 1) / probes)).ToArray();
        return (mean, errors);
    }

    internal static Matrix<T> Rademacher<T>(int n, int count, Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var z = Matrix<T>.Build.Dense(n, count);
        for (int j = 0; j < count; j++)
        {
            for (int i = 0; i < n; i++)
            {
                z[i, j] = random.Next(2) == 0 ? -T.One : T.One;
            }
        }

        return z;
    }

    internal static Matrix<T> Apply<T>(ISymmetricOperator<T> op, Matrix<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var av = op.Apply(v);
        foreach (var value in av.Enumerate())
        {
            if (!T.IsFinite(value))
            {
                throw new NonFiniteOperatorException($"The operator returned a non-finite value ({value}) for a block of {v.ColumnCount} probe(s).");
            }
        }

        return av;
    }

    private static double ColumnDot<T>(Matrix<T> a, Matrix<T> b, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int i = 0; i < a.RowCount; i++)
        {
            s += double.CreateChecked(a[i, j]) * double.CreateChecked(b[i, j]);
        }

        return s;
    }

    private static Matrix<T> Orthonormal<T>(Matrix<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Thin QR in double; columns of a rank-deficient sketch that vanish are dropped.
        var d = Matrix<double>.Build.Dense(y.RowCount, y.ColumnCount, (i, j) => double.CreateChecked(y[i, j]));
        var columns = new List<double[]>();
        double scale = d.ColumnNorms(2).Maximum();
        for (int j = 0; j < d.ColumnCount; j++)
        {
            var v = d.Column(j).ToArray();
            Lanczos.Orthogonalize(columns, v);

            double norm = Lanczos.Norm(v);
            if (norm > 1e-10 * scale)
            {
                columns.Add(v.Select(x => x / norm).ToArray());
            }
        }

        return Matrix<T>.Build.Dense(y.RowCount, columns.Count, (i, j) => T.CreateChecked(columns[j][i]));
    }

    private static double StandardError(List<double> terms)
    {
        double mean = terms.Average();
        double variance = terms.Sum(t => (t - mean) * (t - mean)) / (terms.Count - 1);
        return Math.Sqrt(variance / terms.Count);
    }

    private static void CheckCounts(int count, int minimum, string name, int blockSize)
    {
        if (count < minimum)
        {
            throw new ArgumentOutOfRangeException(name, count, $"At least {minimum} are needed.");
        }

        if (blockSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The block size must be at least 1.");
        }
    }
}

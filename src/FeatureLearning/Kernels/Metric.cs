using System.Numerics;
using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Kernels;

/// <summary>
/// A Mahalanobis metric M for kernels k_M(x, z): the identity, a diagonal metric diag(m) with m ≥ 0, or a full
/// symmetric positive semi-definite d × d matrix. Immutable: the values are copied in.
/// </summary>
/// <remarks>
/// <para>Not an estimator, and deliberately not generic: <see cref="Metric"/> is the host-side description of M, kept in
/// double for every precision. Every estimator, whether it computes in float or double, uploads it in its own element
/// type with <see cref="Upload{T}"/> at the start of each round or prediction (d × d values, small next to the data).
/// The metric an RFM or ConvRFM learns is the AGOP, which the AGOP engine accumulates in double in both precisions, then
/// normalized and raised to its power in double, so a double description loses nothing a float one would keep; and the
/// model files store the metric as doubles whatever the model's precision, so one metric encoding serves all of them.</para>
/// </remarks>
public sealed class Metric
{
    private readonly double[] values;

    private Metric(MetricKind kind, int dimension, double[] values)
    {
        Kind = kind;
        Dimension = dimension;
        this.values = values;
    }

    /// <summary>The identity metric (any dimension).</summary>
    public static Metric Identity { get; } = new(MetricKind.Identity, 0, []);

    /// <summary>The structure of the metric.</summary>
    public MetricKind Kind { get; }

    /// <summary>The dimension d (0 for the identity, which fits any dimension).</summary>
    public int Dimension { get; }

    /// <summary>A diagonal metric diag(m).</summary>
    /// <param name="diagonal">The non-negative, finite diagonal m.</param>
    /// <returns>The metric.</returns>
    /// <exception cref="ArgumentException">An entry is negative or not finite, or the vector is empty.</exception>
    public static Metric Diagonal(MathNet.Numerics.LinearAlgebra.Vector<double> diagonal)
    {
        ArgumentNullException.ThrowIfNull(diagonal);
        return Diagonal(diagonal.ToArray());
    }

    /// <summary>A diagonal metric diag(m).</summary>
    /// <param name="diagonal">The non-negative, finite diagonal m.</param>
    /// <returns>The metric.</returns>
    /// <exception cref="ArgumentException">An entry is negative or not finite, or the array is empty.</exception>
    public static Metric Diagonal(IReadOnlyList<double> diagonal)
    {
        ArgumentNullException.ThrowIfNull(diagonal);
        if (diagonal.Count == 0)
        {
            throw new ArgumentException("The diagonal metric is empty.", nameof(diagonal));
        }

        var copy = diagonal.ToArray();
        for (int i = 0; i < copy.Length; i++)
        {
            if (!double.IsFinite(copy[i]) || copy[i] < 0)
            {
                throw new ArgumentException($"Diagonal metric entry {i} is {copy[i]}: entries must be finite and non-negative.", nameof(diagonal));
            }
        }

        return new Metric(MetricKind.Diagonal, copy.Length, copy);
    }

    /// <summary>A full metric M (symmetric positive semi-definite).</summary>
    /// <param name="matrix">The d × d matrix.</param>
    /// <returns>The metric.</returns>
    /// <exception cref="ArgumentException">M is not square, not finite, not symmetric, or not positive semi-definite.</exception>
    public static Metric Full(Matrix<double> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.RowCount != matrix.ColumnCount || matrix.RowCount == 0)
        {
            throw new ArgumentException($"The metric must be a non-empty square matrix but is {matrix.RowCount} x {matrix.ColumnCount}.", nameof(matrix));
        }

        int d = matrix.RowCount;
        var copy = matrix.ToRowMajorArray();
        double scale = 0;
        foreach (double v in copy)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("The metric contains NaN or infinite entries.", nameof(matrix));
            }

            scale = Math.Max(scale, Math.Abs(v));
        }

        for (int i = 0; i < d; i++)
        {
            for (int j = i + 1; j < d; j++)
            {
                double a = copy[(i * d) + j], b = copy[(j * d) + i];
                if (Math.Abs(a - b) > 1e-10 * Math.Max(scale, double.Epsilon))
                {
                    throw new ArgumentException($"The metric is not symmetric: M[{i},{j}] = {a} but M[{j},{i}] = {b}.", nameof(matrix));
                }

                copy[(j * d) + i] = copy[(i * d) + j] = 0.5 * (a + b);
            }
        }

        RequirePositiveSemidefinite(copy, d, scale, nameof(matrix));
        return new Metric(MetricKind.Full, d, copy);
    }

    /// <summary>A full metric built by the library from a matrix known to be PSD (symmetrized, not re-checked).</summary>
    internal static Metric FromSymmetric(double[] rowMajor, int d)
    {
        var copy = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double v = 0.5 * (rowMajor[(i * d) + j] + rowMajor[(j * d) + i]);
                if (!double.IsFinite(v))
                {
                    throw new ArithmeticException($"The metric has a non-finite entry at ({i}, {j}).");
                }

                copy[(i * d) + j] = v;
            }
        }

        return new Metric(MetricKind.Full, d, copy);
    }

    /// <summary>The metric as a d × d matrix.</summary>
    /// <param name="dimension">d, needed for the identity; must match <see cref="Dimension"/> otherwise.</param>
    /// <returns>A new matrix.</returns>
    public Matrix<double> ToMatrix(int dimension)
    {
        CheckDimension(dimension, nameof(dimension));
        return Kind switch
        {
            MetricKind.Identity => Matrix<double>.Build.DenseIdentity(dimension),
            MetricKind.Diagonal => Matrix<double>.Build.DenseOfDiagonalArray(values),
            _ => Matrix<double>.Build.DenseOfRowMajor(dimension, dimension, values),
        };
    }

    /// <summary>The stored values: empty (identity), the diagonal, or M row-major.</summary>
    /// <returns>A copy.</returns>
    public double[] ToArray() => (double[])values.Clone();

    /// <summary>Throws when the metric does not fit data of the given dimension.</summary>
    /// <param name="dimension">The data dimension d.</param>
    /// <param name="paramName">The argument to name in the exception.</param>
    /// <exception cref="ArgumentException">The dimensions differ.</exception>
    public void CheckDimension(int dimension, string paramName)
    {
        if (Kind != MetricKind.Identity && Dimension != dimension)
        {
            throw new ArgumentException($"The metric is {Dimension}-dimensional but the data have {dimension} features.", paramName);
        }
    }

    /// <summary>Uploads the metric in the layout <see cref="IComputeBackend.KernelMatrix{T, TKernel}"/> expects (null for the identity).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="backend">The backend.</param>
    /// <returns>The buffer (the caller disposes it), or null for the identity.</returns>
    public DeviceBuffer<T>? Upload<T>(IComputeBackend backend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (Kind == MetricKind.Identity)
        {
            return null;
        }

        var data = values.Select(T.CreateTruncating).ToArray();
        return Kind == MetricKind.Diagonal ? backend.Upload<T>(data, 1, Dimension) : backend.Upload<T>(data, Dimension, Dimension);
    }

    /// <summary>The squared distance (x − z)ᵀM(x − z).</summary>
    /// <param name="x">x.</param>
    /// <param name="z">z.</param>
    /// <returns>‖x − z‖²_M.</returns>
    public double SquaredDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> z)
    {
        Span<double> diff = x.Length <= 256 ? stackalloc double[x.Length] : new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            diff[i] = x[i] - z[i];
        }

        return InnerProduct(diff, diff);
    }

    /// <summary>The inner product xᵀMz.</summary>
    /// <param name="x">x.</param>
    /// <param name="z">z.</param>
    /// <returns>xᵀMz.</returns>
    public double InnerProduct(ReadOnlySpan<double> x, ReadOnlySpan<double> z)
    {
        if (x.Length != z.Length)
        {
            throw new ArgumentException($"x has {x.Length} entries but z has {z.Length}.", nameof(z));
        }

        CheckDimension(x.Length, nameof(x));
        double sum = 0;
        int d = x.Length;
        for (int i = 0; i < d; i++)
        {
            switch (Kind)
            {
                case MetricKind.Identity:
                    sum += x[i] * z[i];
                    break;
                case MetricKind.Diagonal:
                    sum += x[i] * values[i] * z[i];
                    break;
                default:
                    for (int j = 0; j < d; j++)
                    {
                        sum += x[i] * values[(i * d) + j] * z[j];
                    }

                    break;
            }
        }

        return sum;
    }

    /// <summary>M·v.</summary>
    /// <param name="v">v.</param>
    /// <returns>A new array M·v.</returns>
    public double[] Apply(ReadOnlySpan<double> v)
    {
        CheckDimension(v.Length, nameof(v));
        int d = v.Length;
        var r = new double[d];
        for (int i = 0; i < d; i++)
        {
            r[i] = Kind switch
            {
                MetricKind.Identity => v[i],
                MetricKind.Diagonal => values[i] * v[i],
                _ => Row(i, d, v),
            };
        }

        return r;
    }

    private double Row(int i, int d, ReadOnlySpan<double> v)
    {
        double s = 0;
        for (int j = 0; j < d; j++)
        {
            s += values[(i * d) + j] * v[j];
        }

        return s;
    }

    private static void RequirePositiveSemidefinite(double[] m, int d, double scale, string paramName)
    {
        // M + δI must be positive definite for a small δ; one Cholesky on the host (no retry, no backend) decides.
        int failedPivot = HostCholeskyFailure(m, d, Math.Max(scale, double.Epsilon) * 1e-9 * d);
        if (failedPivot >= 0)
        {
            throw new ArgumentException($"The metric is not positive semi-definite (Cholesky of M + δI failed at pivot {failedPivot}).", paramName);
        }
    }

    /// <summary>
    /// The row-oriented Cholesky factorization of M + δI (M symmetric, row-major d × d) on a scratch copy: the first
    /// pivot that is not positive (or not finite), or −1 when the factorization succeeds.
    /// </summary>
    /// <param name="m">M, row-major; not modified.</param>
    /// <param name="d">Its order.</param>
    /// <param name="shift">δ, added to the diagonal.</param>
    /// <returns>The failed pivot, or −1.</returns>
    internal static int HostCholeskyFailure(ReadOnlySpan<double> m, int d, double shift)
    {
        // Row i of L from the rows above it: L_ij = (A_ij − L_i,:j · L_j,:j) / L_jj, each a contiguous dot product.
        var l = new double[(long)d * d];
        for (int i = 0; i < d; i++)
        {
            var li = l.AsSpan(i * d, d);
            for (int j = 0; j <= i; j++)
            {
                double dot = System.Numerics.Tensors.TensorPrimitives.Dot(li[..j], l.AsSpan(j * d, j));
                if (j < i)
                {
                    li[j] = (m[(i * d) + j] - dot) / l[(j * d) + j];
                    continue;
                }

                double pivot = m[(i * d) + i] + shift - dot;
                if (!(pivot > 0) || !double.IsFinite(pivot))
                {
                    return i;
                }

                li[i] = Math.Sqrt(pivot);
            }
        }

        return -1;
    }

    /// <inheritdoc />
    public override string ToString() => Kind == MetricKind.Identity ? "Metric(identity)" : $"Metric({Kind}, d={Dimension})";
}

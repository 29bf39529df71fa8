using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Estimators;

/// <summary>
/// The features the facade takes, n × d with one example per row: a <c>double[,]</c>, a rectangular <c>double[][]</c>,
/// a <c>float[,]</c>, or a MathNet <see cref="Matrix{T}"/> of <see cref="double"/> or <see cref="float"/>, converted
/// implicitly. The conversion is checked (and copied to double precision) when a method reads it, so a ragged array, an
/// empty one or a NaN is refused with an <see cref="ArgumentException"/> that names that method's argument.
/// </summary>
public readonly struct InputMatrix : IEquatable<InputMatrix>
{
    private readonly object? source;

    private InputMatrix(object? source) => this.source = source;

    /// <summary>Wraps a two-dimensional array.</summary>
    /// <param name="x">n × d features.</param>
    public static implicit operator InputMatrix(double[,]? x) => new(x);

    /// <summary>Wraps an array of rows (all of the same length).</summary>
    /// <param name="x">n rows of d features.</param>
    public static implicit operator InputMatrix(double[][]? x) => new(x);

    /// <summary>Wraps a single-precision two-dimensional array (widened to double).</summary>
    /// <param name="x">n × d features.</param>
    public static implicit operator InputMatrix(float[,]? x) => new(x);

    /// <summary>Wraps a matrix.</summary>
    /// <param name="x">n × d features.</param>
    public static implicit operator InputMatrix(Matrix<double>? x) => new(x);

    /// <summary>Wraps a single-precision matrix (widened to double).</summary>
    /// <param name="x">n × d features.</param>
    public static implicit operator InputMatrix(Matrix<float>? x) => new(x);

    /// <summary>Whether two values wrap the same object.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(InputMatrix left, InputMatrix right) => left.Equals(right);

    /// <summary>Whether two values wrap different objects.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(InputMatrix left, InputMatrix right) => !left.Equals(right);

    /// <summary>Wraps a matrix (the named alternative to the implicit conversion).</summary>
    /// <param name="x">n × d features.</param>
    /// <returns>The input.</returns>
    public static InputMatrix FromMatrix(Matrix<double> x) => new(x);

    /// <summary>The features as a new double matrix, checked: not null, rectangular, not empty, finite.</summary>
    /// <param name="name">The argument name the exceptions carry.</param>
    /// <returns>A copy in double precision.</returns>
    /// <exception cref="ArgumentNullException">No features were given.</exception>
    /// <exception cref="ArgumentException">Ragged rows, no rows or columns, or a NaN/∞ entry.</exception>
    public Matrix<double> ToMatrix(string name)
    {
        var m = source switch
        {
            null => throw new ArgumentNullException(name, "Features are required."),
            double[,] a => Matrix<double>.Build.DenseOfArray(a),
            float[,] a => Matrix<double>.Build.Dense(a.GetLength(0), a.GetLength(1), (i, j) => a[i, j]),
            double[][] rows => FromRows(rows, name),
            Matrix<double> a => a.Clone(),
            Matrix<float> a => a.Map(v => (double)v),
            _ => throw new InvalidOperationException("Unknown feature source."),
        };
        Validation.NonEmptyFinite(m, name);
        return m;
    }

    /// <inheritdoc />
    public bool Equals(InputMatrix other) => ReferenceEquals(source, other.source);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is InputMatrix other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => source is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(source);

    private static Matrix<double> FromRows(double[][] rows, string name)
    {
        if (rows.Length == 0)
        {
            throw new ArgumentException("The features have no rows.", name);
        }

        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i] is null)
            {
                throw new ArgumentException($"Row {i} is null.", name);
            }

            if (rows[i].Length != rows[0].Length)
            {
                throw new ArgumentException($"The rows are ragged: row {i} has {rows[i].Length} features but row 0 has {rows[0].Length}.", name);
            }
        }

        return Matrix<double>.Build.DenseOfRowArrays(rows);
    }
}

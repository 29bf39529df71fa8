using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning;

/// <summary>Input checks that throw <see cref="ArgumentException"/> naming the argument and the problem.</summary>
internal static class Validation
{
    public static void NonEmptyFinite<T>(Matrix<T> matrix, string name)
        where T : struct, IEquatable<T>, IFormattable
    {
        ArgumentNullException.ThrowIfNull(matrix, name);
        if (matrix.RowCount == 0 || matrix.ColumnCount == 0)
        {
            throw new ArgumentException($"The matrix is empty ({matrix.RowCount} x {matrix.ColumnCount}).", name);
        }

        var storage = matrix.ToRowMajorArray();
        for (int i = 0; i < storage.Length; i++)
        {
            double v = Convert.ToDouble(storage[i], System.Globalization.CultureInfo.InvariantCulture);
            if (!double.IsFinite(v))
            {
                throw new ArgumentException($"Entry ({i / matrix.ColumnCount}, {i % matrix.ColumnCount}) is {v}: the data must be finite (no NaN or infinity).", name);
            }
        }
    }

    public static void SameRows<T>(Matrix<T> x, Matrix<T> y, string nameY)
        where T : struct, IEquatable<T>, IFormattable
    {
        if (x.RowCount != y.RowCount)
        {
            throw new ArgumentException($"The targets have {y.RowCount} rows but the inputs have {x.RowCount}: one target row per input row is needed.", nameY);
        }
    }

    /// <summary>The checks every estimator's Fit makes: non-empty finite x and y, one target row per input row, a metric of x's dimension.</summary>
    public static void TrainingData<T>(Matrix<T> x, Matrix<T> y, Kernels.Metric metric)
        where T : struct, IEquatable<T>, IFormattable
    {
        NonEmptyFinite(x, nameof(x));
        NonEmptyFinite(y, nameof(y));
        SameRows(x, y, nameof(y));
        metric.CheckDimension(x.ColumnCount, nameof(x));
    }

    /// <summary>The checks every kernel estimator's options make: a valid kernel and a finite, non-negative ridge.</summary>
    public static void KernelAndRidge(Kernels.IKernelFunction? kernel, double ridge, string kernelName = "Kernel", string ridgeName = "Ridge")
    {
        if (kernel is null)
        {
            throw new ArgumentNullException(kernelName, "A kernel is required.");
        }

        kernel.Validate();
        NonNegativeFinite(ridge, ridgeName, "ridge");
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option when <paramref name="value"/> is not a named member of its enum (e.g. <c>(MetricNormalization)42</c>).</summary>
    public static void DefinedEnum<TEnum>(TEnum value, string name)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{value} is not a {typeof(TEnum).Name}: use one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
        }
    }

    public static void PositiveFinite(double value, string name, string what)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {what} must be positive and finite.");
        }
    }

    public static void NonNegativeFinite(double value, string name, string what)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {what} must be finite and non-negative.");
        }
    }
}

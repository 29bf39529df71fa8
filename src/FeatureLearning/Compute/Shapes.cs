using System.Numerics;

namespace FeatureLearning.Compute;

/// <summary>Shape checks shared by the backends; each throws <see cref="ArgumentException"/> naming the argument.</summary>
/// <remarks>Together with <see cref="Operands.Own{T, TBuffer}"/> it is the whole prologue of an operation: one check per operation, written once for all backends.</remarks>
internal static class Shapes
{
    public static void CheckGemm<T>(Transpose transA, Transpose transB, DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c, out int m, out int n, out int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        m = transA == Transpose.Transpose ? a.Cols : a.Rows;
        k = transA == Transpose.Transpose ? a.Rows : a.Cols;
        int kb = transB == Transpose.Transpose ? b.Cols : b.Rows;
        n = transB == Transpose.Transpose ? b.Rows : b.Cols;
        if (k != kb)
        {
            throw new ArgumentException($"GEMM: op(A) is {m} x {k} but op(B) is {kb} x {n}: inner dimensions differ.", nameof(b));
        }

        if (c.Rows != m || c.Cols != n)
        {
            throw new ArgumentException($"GEMM: C must be {m} x {n} but is {c.Rows} x {c.Cols}.", nameof(c));
        }

        CheckNoAlias(a, c, nameof(c));
        CheckNoAlias(b, c, nameof(c));
    }

    /// <summary>Hadamard shapes: A, B and C all of one shape.</summary>
    public static void CheckHadamard<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameShape(a, b, nameof(b));
        CheckSameShape(a, c, nameof(c));
    }

    /// <summary>Row-dot shapes: A and B of one shape, the result a vector with one element per row.</summary>
    public static void CheckRowDot<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameShape(a, b, nameof(b));
        CheckVector(result, a.Rows, nameof(result));
    }

    /// <summary>Cholesky factor arguments: a square matrix and valid options (null: the defaults), which are returned.</summary>
    public static CholeskyOptions CheckCholeskyFactor<T>(DeviceBuffer<T> a, CholeskyOptions? options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSquare(a, nameof(a));
        options ??= CholeskyOptions.Default;
        options.Validate();
        return options;
    }

    /// <summary>Batched ridge solve arguments: P square and covering every index, the right-hand sides contiguous and of the packed length.</summary>
    public static void CheckBatchedRidgeSolve<T>(DeviceBuffer<T> p, SmallSystemBatch systems, DeviceBuffer<T> rightHandSides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(systems);
        CheckSquare(p, nameof(p));
        if (systems.MaxIndex >= p.Rows)
        {
            throw new ArgumentException($"Batched ridge solve: the systems index row/column {systems.MaxIndex} but P is {p.Rows} x {p.Cols}.", nameof(systems));
        }

        if (!rightHandSides.IsContiguous || rightHandSides.LongLength != systems.RightHandSideLength)
        {
            throw new ArgumentException(
                $"Batched ridge solve: the right-hand sides must be one contiguous buffer of {systems.RightHandSideLength} elements (Σ k_s·m_s) but are a {rightHandSides.Rows} x {rightHandSides.Cols}{(rightHandSides.IsContiguous ? string.Empty : " strided view")}.",
                nameof(rightHandSides));
        }

        CheckNoAlias(p, rightHandSides, nameof(rightHandSides));
    }

    public static void CheckSquare<T>(DeviceBuffer<T> a, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rows != a.Cols)
        {
            throw new ArgumentException($"The matrix must be square but is {a.Rows} x {a.Cols}.", name);
        }
    }

    public static void CheckSameShape<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rows != b.Rows || a.Cols != b.Cols)
        {
            throw new ArgumentException($"Shape mismatch: {a.Rows} x {a.Cols} versus {b.Rows} x {b.Cols}.", name);
        }
    }

    public static void CheckConvert<TSource, TDestination>(DeviceBuffer<TSource> source, DeviceBuffer<TDestination> destination)
        where TSource : unmanaged, IFloatingPointIeee754<TSource>
        where TDestination : unmanaged, IFloatingPointIeee754<TDestination>
    {
        PrecisionExtensions.Of<TSource>();
        PrecisionExtensions.Of<TDestination>();
        if (source.Rows != destination.Rows || source.Cols != destination.Cols)
        {
            throw new ArgumentException($"Shape mismatch: {source.Rows} x {source.Cols} versus {destination.Rows} x {destination.Cols}.", nameof(destination));
        }
    }

    public static void CheckSameLength<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.LongLength != b.LongLength)
        {
            throw new ArgumentException($"Length mismatch: {a.LongLength} versus {b.LongLength} elements.", name);
        }
    }

    public static void CheckVector<T>(DeviceBuffer<T> v, int length, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (v.LongLength != length || (v.Rows != 1 && v.Cols != 1))
        {
            throw new ArgumentException($"Expected a vector of {length} elements (1 x {length} or {length} x 1) but got {v.Rows} x {v.Cols}.", name);
        }
    }

    public static void CheckNoAlias<T>(DeviceBuffer<T> input, DeviceBuffer<T> output, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (ReferenceEquals(input, output))
        {
            throw new ArgumentException("The output buffer may not be the same buffer as an input.", name);
        }
    }

    public static void CheckKernelMatrix<T>(DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights, bool normDependent = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = x.Cols;
        if (z.Cols != d)
        {
            throw new ArgumentException($"X has {d} columns but Z has {z.Cols}: both must have the same dimension.", nameof(z));
        }

        CheckMetric(d, metric);
        if (result.Rows != x.Rows || result.Cols != z.Rows)
        {
            throw new ArgumentException($"The kernel matrix must be {x.Rows} x {z.Rows} but is {result.Rows} x {result.Cols}.", nameof(result));
        }

        int weightCols = normDependent ? 2 * z.Rows : z.Rows;
        if (derivativeWeights is not null && (derivativeWeights.Rows != x.Rows || derivativeWeights.Cols != weightCols))
        {
            string what = normDependent ? $" ([∂κ/∂u | ∂κ/∂a] for a kernel of the {nameof(Kernels.KernelGeometry.InnerProductAndNorms)} geometry)" : string.Empty;
            throw new ArgumentException($"The derivative weights must be {x.Rows} x {weightCols}{what} but are {derivativeWeights.Rows} x {derivativeWeights.Cols}.", nameof(derivativeWeights));
        }

        if (ReferenceEquals(result, x) || ReferenceEquals(result, z) || (derivativeWeights is not null && (ReferenceEquals(derivativeWeights, result) || ReferenceEquals(derivativeWeights, x))))
        {
            throw new ArgumentException("The outputs of the kernel matrix may not alias its inputs or each other.", nameof(result));
        }
    }

    /// <summary>A metric for inputs of dimension <paramref name="d"/>: d × d (full) or d values (diagonal), or none.</summary>
    public static void CheckMetric<T>(int d, DeviceBuffer<T>? metric)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (metric is not null)
        {
            bool full = metric.Rows == d && metric.Cols == d;
            bool diagonal = metric.LongLength == d && (metric.Rows == 1 || metric.Cols == 1);
            if (!full && !diagonal)
            {
                throw new ArgumentException($"The metric must be {d} x {d} (full) or hold {d} values (diagonal), but is {metric.Rows} x {metric.Cols}.", nameof(metric));
            }
        }
    }

    public static void CheckBlockSum<T>(DeviceBuffer<T> a, int rowGroup, int colGroup, DeviceBuffer<T> result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroup, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(colGroup, 1);
        if ((long)result.Rows * rowGroup != a.Rows || (long)result.Cols * colGroup != a.Cols)
        {
            throw new ArgumentException(
                $"A is {a.Rows} x {a.Cols}; blocks of {rowGroup} x {colGroup} need a {a.Rows / rowGroup} x {a.Cols / colGroup} result with no remainder, but the result is {result.Rows} x {result.Cols}.",
                nameof(result));
        }
    }

    /// <summary>One row of a block sum: sums[J] = scale · Σ_r Σ_s A[i·rowGroup + r, J·colGroup + s], A row-major with row stride <paramref name="lda"/> (its column count, or a view's leading dimension; <paramref name="a"/> starts at element (0, 0)).</summary>
    public static void BlockSumRow<T>(ReadOnlySpan<T> a, int lda, int i, int rowGroup, int colGroup, T scale, Span<T> sums)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        sums.Clear();
        for (int r = 0; r < rowGroup; r++)
        {
            var row = a.Slice(((i * rowGroup) + r) * lda, sums.Length * colGroup);
            for (int j = 0; j < sums.Length; j++)
            {
                sums[j] += System.Numerics.Tensors.TensorPrimitives.Sum(row.Slice(j * colGroup, colGroup));
            }
        }

        System.Numerics.Tensors.TensorPrimitives.Multiply(sums, scale, sums);
    }

    /// <summary>Gather shapes: D has A's rows and one column per index, every index names a column of A, and D does not overlap A.</summary>
    public static void CheckGatherColumns<T>(DeviceBuffer<T> source, ReadOnlySpan<int> columns, DeviceBuffer<T> destination)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (destination.Rows != source.Rows || destination.Cols != columns.Length)
        {
            throw new ArgumentException($"The destination must be {source.Rows} x {columns.Length} (the source's rows, one column per index) but is {destination.Rows} x {destination.Cols}.", nameof(destination));
        }

        for (int t = 0; t < columns.Length; t++)
        {
            if ((uint)columns[t] >= (uint)source.Cols)
            {
                throw new ArgumentOutOfRangeException(nameof(columns), columns[t], $"Column index {t} is {columns[t]}, outside the {source.Cols} columns of the source.");
            }
        }

        CheckNoAlias(source, destination, nameof(destination));
    }

    public static void CheckRowKronecker<T>(DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (b.Rows != a.Rows)
        {
            throw new ArgumentException($"B has {b.Rows} rows; A has {a.Rows}.", nameof(b));
        }

        if (result.Rows != a.Rows || (long)result.Cols != (long)a.Cols * b.Cols)
        {
            throw new ArgumentException($"The result must be {a.Rows} x {(long)a.Cols * b.Cols} but is {result.Rows} x {result.Cols}.", nameof(result));
        }
    }

    /// <summary>SYRK shapes: op(A) is n × k and C must be n × n.</summary>
    public static void CheckSyrk<T>(Transpose trans, DeviceBuffer<T> a, DeviceBuffer<T> c, out int n, out int k)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckNoAlias(a, c, nameof(c));
        bool t = trans == Transpose.Transpose;
        n = t ? a.Cols : a.Rows;
        k = t ? a.Rows : a.Cols;
        if (c.Rows != n || c.Cols != n)
        {
            throw new ArgumentException($"SYRK: C must be {n} x {n} for op(A) of shape {n} x {k}, but is {c.Rows} x {c.Cols}.", nameof(c));
        }
    }

    /// <summary>Cholesky solve shapes: a square factor and right-hand sides with as many rows.</summary>
    public static void CheckCholeskySolve<T>(DeviceBuffer<T> factor, DeviceBuffer<T> b)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckSquare(factor, nameof(factor));
        if (b.Rows != factor.Rows)
        {
            throw new ArgumentException($"The right-hand side has {b.Rows} rows; the {factor.Rows} x {factor.Rows} factor needs {factor.Rows}.", nameof(b));
        }

        CheckNoAlias(factor, b, nameof(b));
    }

    /// <summary>Eigendecomposition shapes: a square A, n eigenvalues, n × n eigenvectors.</summary>
    public static void CheckEigen<T>(DeviceBuffer<T> a, DeviceBuffer<T> eigenvalues, DeviceBuffer<T> eigenvectors)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckSquare(a, nameof(a));
        int n = a.Rows;
        if (eigenvalues.LongLength != n)
        {
            throw new ArgumentException($"The eigenvalue buffer must hold {n} values but holds {eigenvalues.LongLength}.", nameof(eigenvalues));
        }

        if (eigenvectors.Rows != n || eigenvectors.Cols != n)
        {
            throw new ArgumentException($"The eigenvector buffer must be {n} x {n}.", nameof(eigenvectors));
        }
    }

    /// <summary>Host memory for an upload or download must hold exactly the buffer's elements.</summary>
    public static void CheckHostLength<T>(int hostLength, DeviceBuffer<T> buffer, bool upload, string name)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (hostLength != buffer.LongLength)
        {
            throw new ArgumentException(
                upload
                    ? $"The host data has {hostLength} elements; the {buffer.Rows} x {buffer.Cols} buffer needs {buffer.LongLength}."
                    : $"The destination has {hostLength} elements; the {buffer.Rows} x {buffer.Cols} buffer has {buffer.LongLength}.",
                name);
        }
    }
}

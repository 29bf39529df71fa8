using System.Numerics;
using Vector = MathNet.Numerics.LinearAlgebra.Vector<double>;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// Diagnostics of a network's empirical tangent kernel Θ = J·Jᵀ on a data set: its spectrum, condition number and PL
/// constant (<see cref="Spectrum{T}"/>, normalisations in <see cref="TangentKernelSpectrum"/>), the split of the square
/// loss between its top eigenspace and the rest, and how far it moved between two networks (<see cref="RelativeMovement{T}(FullyConnectedNetwork{T}, FullyConnectedNetwork{T}, Matrix{T}, EmpiricalNtkOptions?, CancellationToken)"/>).
/// </summary>
public static class TangentKernelDiagnostics
{
    /// <summary>
    /// The spectrum of Θ on <paramref name="inputs"/>, and with <paramref name="targets"/> the mean-squared error
    /// L = (1/2n)‖f − y‖² split into its part in the top-k eigenspace of Θ and the rest (the residual r = f(X) − Y projected
    /// on the eigenvectors).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network, at its current parameters.</param>
    /// <param name="inputs">X, n × d, finite.</param>
    /// <param name="targets">Y, n × c, finite; <see langword="null"/> for no loss split.</param>
    /// <param name="options">Method, k and the Lanczos settings; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Reported by the Lanczos runs (not on the dense path).</param>
    /// <param name="cancellationToken">Checked by the kernel and Lanczos.</param>
    /// <returns>The spectrum, κ, μ and the loss split.</returns>
    /// <exception cref="ArgumentException">Invalid data (naming the argument) or options (naming the property), or a k above n·c.</exception>
    public static TangentKernelSpectrum Spectrum<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, Matrix<T>? targets = null, TangentKernelOptions? options = null, IProgress<LanczosProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        options ??= new TangentKernelOptions();
        options.Validate();
        int n = inputs.RowCount, c = network.Architecture.OutputDimension, m = n * c;
        if (targets is not null)
        {
            Validation.NonEmptyFinite(targets, nameof(targets));
            Validation.SameRows(inputs, targets, nameof(targets));
            if (targets.ColumnCount != c)
            {
                throw new ArgumentException($"The targets have {targets.ColumnCount} columns; the network has {c} outputs.", nameof(targets));
            }
        }

        if (options.TopCount > m)
        {
            // The default (10) is clamped for small problems; a count the caller asked for is not.
            options = options.TopCount == new TangentKernelOptions().TopCount ? options with { TopCount = m }
                : throw new ArgumentOutOfRangeException(nameof(options), options.TopCount, $"TangentKernelOptions.TopCount must be at most n·c = {m}.");
        }

        var residual = targets is null ? null : ToDouble(network.Predict(inputs) - targets);
        bool dense = options.Method == TangentKernelMethod.Dense || (options.Method == TangentKernelMethod.Auto && m <= options.DenseLimit);
        if (dense)
        {
            var theta = ToDouble(EmpiricalNtk.Compute(network, inputs, null, (options.Kernel ?? EmpiricalNtkOptions.Default) with { Mode = EmpiricalNtkMode.PerOutput }, null, cancellationToken));
            return FromKernel(theta, n, c, options.TopCount, residual, network.Backend);
        }

        var lanczos = options.Lanczos ?? new LanczosOptions();
        var op = SymmetricOperator.TangentKernel(network, inputs);
        var top = Lanczos.Eigenpairs(op, lanczos with { Count = options.TopCount, Which = SpectrumEnd.Largest, ComputeVectors = residual is not null }, progress, cancellationToken);
        var bottom = Lanczos.Eigenpairs(op, lanczos with { Count = 1, Which = SpectrumEnd.Smallest, ComputeVectors = false }, progress, cancellationToken);
        double? loss = null, topLoss = null, restLoss = null;
        if (residual is not null)
        {
            // r sample-major (i·c + k), as the operator's rows.
            var r = Vector.Build.Dense(m, e => residual[e / c, e % c]);
            var projections = ToDouble(top.Eigenvectors!).TransposeThisAndMultiply(r);
            loss = r.DotProduct(r) / (2.0 * n);
            topLoss = projections.DotProduct(projections) / (2.0 * n);
            restLoss = Math.Max(loss.Value - topLoss.Value, 0);
        }

        return new TangentKernelSpectrum
        {
            SampleCount = n, OutputCount = c, Method = TangentKernelMethod.Lanczos, Eigenvalues = top.Eigenvalues,
            Largest = top.Eigenvalues[0], Smallest = bottom.Eigenvalues[0], TopCount = options.TopCount,
            Loss = loss, TopSpaceLoss = topLoss, RestLoss = restLoss,
            OperatorApplications = top.Iterations + bottom.Iterations, Converged = top.Converged && bottom.Converged, SmallestConverged = bottom.Converged,
        };
    }

    /// <summary>
    /// The relative kernel movement ‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F between the empirical NTKs (per output) of two networks of the
    /// same architecture on the same inputs: 0 for the same parameters; small in the lazy (wide, NTK) regime.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="initial">The reference network (usually at initialisation).</param>
    /// <param name="current">The network compared with it (usually after training).</param>
    /// <param name="inputs">X, n × d, finite.</param>
    /// <param name="kernelOptions">The block size of <see cref="EmpiricalNtk"/>.Compute (the mode is always per output); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked by the kernels.</param>
    /// <returns>‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F.</returns>
    /// <exception cref="ArgumentException">Different architectures, invalid inputs, or Θ_0 = 0.</exception>
    public static double RelativeMovement<T>(FullyConnectedNetwork<T> initial, FullyConnectedNetwork<T> current, Matrix<T> inputs, EmpiricalNtkOptions? kernelOptions = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(current);
        if (!NetworkArchitecture.SameShape(initial.Architecture, current.Architecture))
        {
            throw new ArgumentException("The two networks have different architectures.", nameof(current));
        }

        Validation.NonEmptyFinite(inputs, nameof(inputs));
        var o = (kernelOptions ?? EmpiricalNtkOptions.Default) with { Mode = EmpiricalNtkMode.PerOutput };
        var theta0 = ToDouble(EmpiricalNtk.Compute(initial, inputs, null, o, null, cancellationToken));
        var theta = ToDouble(EmpiricalNtk.Compute(current, inputs, null, o, null, cancellationToken));
        return RelativeMovement(theta0, theta);
    }

    /// <summary>The relative kernel movement ‖Θ − Θ_0‖_F / ‖Θ_0‖_F between two kernel matrices of the same shape.</summary>
    /// <param name="initialKernel">Θ_0 (not zero, finite).</param>
    /// <param name="currentKernel">Θ, the same shape, finite.</param>
    /// <returns>‖Θ − Θ_0‖_F / ‖Θ_0‖_F.</returns>
    /// <exception cref="ArgumentException">Different shapes, a kernel that is not finite, or Θ_0 = 0.</exception>
    public static double RelativeMovement(Matrix<double> initialKernel, Matrix<double> currentKernel)
    {
        Validation.NonEmptyFinite(initialKernel, nameof(initialKernel));
        Validation.NonEmptyFinite(currentKernel, nameof(currentKernel));
        if (initialKernel.RowCount != currentKernel.RowCount || initialKernel.ColumnCount != currentKernel.ColumnCount)
        {
            throw new ArgumentException($"The kernels are {initialKernel.RowCount} x {initialKernel.ColumnCount} and {currentKernel.RowCount} x {currentKernel.ColumnCount}.", nameof(currentKernel));
        }

        double norm0 = initialKernel.FrobeniusNorm();
        if (norm0 == 0)
        {
            throw new ArgumentException("The initial kernel is zero: the relative movement is undefined.", nameof(initialKernel));
        }

        return (currentKernel - initialKernel).FrobeniusNorm() / norm0;
    }

    /// <summary>The dense-path spectrum of a per-output (output-major) kernel Θ; <paramref name="residual"/> is n × c.</summary>
    /// <remarks>The eigendecomposition runs on <paramref name="backend"/> (LAPACK's dsyevd on the native backend; MathNet's
    /// managed solver on the managed one, slow beyond a few thousand rows).</remarks>
    internal static TangentKernelSpectrum FromKernel(Matrix<double> theta, int n, int c, int topCount, Matrix<double>? residual, IComputeBackend backend)
    {
        int m = n * c;
        var (ascending, vectors) = Eigen(theta, backend);
        var evd = (EigenVectors: vectors, Unused: 0);
        var eigenvalues = Enumerable.Range(0, m).Select(i => ascending[m - 1 - i]).ToArray();
        double? loss = null, topLoss = null, restLoss = null;
        if (residual is not null)
        {
            // r output-major (k·n + i), as the kernel's rows.
            var r = Vector.Build.Dense(m, e => residual[e % n, e / n]);
            var projections = evd.EigenVectors.TransposeThisAndMultiply(r);
            double top = 0, rest = 0;
            for (int j = 0; j < m; j++)
            {
                double p2 = projections[j] * projections[j];
                if (j >= m - topCount)
                {
                    top += p2;
                }
                else
                {
                    rest += p2;
                }
            }

            loss = r.DotProduct(r) / (2.0 * n);
            topLoss = top / (2.0 * n);
            restLoss = rest / (2.0 * n);
        }

        return new TangentKernelSpectrum
        {
            SampleCount = n, OutputCount = c, Method = TangentKernelMethod.Dense, Eigenvalues = eigenvalues,
            Largest = eigenvalues[0], Smallest = eigenvalues[^1], TopCount = topCount,
            Loss = loss, TopSpaceLoss = topLoss, RestLoss = restLoss, OperatorApplications = 0, Converged = true, SmallestConverged = true,
        };
    }

    /// <summary>Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix on a backend.</summary>
    private static (Vector Values, Matrix<double> Vectors) Eigen(Matrix<double> a, IComputeBackend backend)
    {
        int m = a.RowCount;
        using var buffer = backend.Upload<double>(a.ToRowMajorArray(), m, m);
        using var values = backend.Allocate<double>(m, 1);
        using var vectors = backend.Allocate<double>(m, m);
        backend.SymmetricEigen(buffer, values, vectors);
        var hostValues = new double[m];
        var hostVectors = new double[m * m];
        backend.Download(values, hostValues);
        backend.Download(vectors, hostVectors);
        foreach (double v in hostValues)
        {
            if (!double.IsFinite(v))
            {
                throw new NonFiniteOperatorException($"The tangent kernel's eigendecomposition returned {v}: the kernel is not finite.");
            }
        }

        // Ascending order, whatever the backend's.
        var order = Enumerable.Range(0, m).OrderBy(i => hostValues[i]).ToArray();
        return (Vector.Build.Dense(m, i => hostValues[order[i]]), Matrix<double>.Build.Dense(m, m, (i, j) => hostVectors[(i * m) + order[j]]));
    }

    /// <summary>A copy in double precision.</summary>
    internal static Matrix<double> ToDouble<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (matrix is Matrix<double> d)
        {
            return d.Clone();
        }

        var values = matrix.ToColumnMajorArray();
        return Matrix<double>.Build.Dense(matrix.RowCount, matrix.ColumnCount, Array.ConvertAll(values, v => double.CreateTruncating(v)));
    }
}

using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Solvers;

/// <summary>A whole Nyström kernel ridge fit: centres, system, CG, and the host copies a fitted model keeps.</summary>
internal static class NystromRidge
{
    /// <summary>The result of <see cref="Fit{T}"/>: the centres (m × d) and β (m × c), row-major, and the report.</summary>
    public sealed record Result<T>(T[] Centres, T[] Beta, NystromReport Report);

    /// <summary>Chooses the centres, solves the Nyström system and returns the coefficients over the centres.</summary>
    public static Result<T> Fit<T>(
        IComputeBackend be, IKernelFunction kernel, Metric metric, T[] xHost, int n, int d, T[] yHost, int c, double ridge, NystromSolver options,
        CholeskyOptions cholesky, int round, Action<SolverProgress>? onIteration, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var x = be.Upload<T>(xHost, n, d);
        using var mb = metric.Upload<T>(be);
        var indices = NystromCentres.Select(be, kernel, x, mb, ridge, options, cholesky, cancellationToken);
        var centresHost = Gather(xHost, d, indices);
        using var centres = be.Upload<T>(centresHost, indices.Length, d);
        using var y = be.Upload<T>(yHost, n, c);
        using var beta = be.Allocate<T>(indices.Length, c);
        var report = Solve(be, kernel, x, mb, centres, indices, y, beta, ridge, options, cholesky, round, onIteration, null, cancellationToken);
        var betaHost = new T[indices.Length * c];
        be.Download(beta, betaHost);
        CheckFinite(betaHost);
        return new Result<T>(centresHost, betaHost, report);
    }

    /// <summary>Builds the system on the device buffers given, solves for β and optionally forms the training predictions.</summary>
    public static NystromReport Solve<T>(
        IComputeBackend be, IKernelFunction kernel, DeviceBuffer<T> x, DeviceBuffer<T>? metric, DeviceBuffer<T> centres, int[] indices, DeviceBuffer<T> y,
        DeviceBuffer<T> beta, double ridge, NystromSolver options, CholeskyOptions cholesky, int round, Action<SolverProgress>? onIteration,
        DeviceBuffer<T>? trainingPredictions, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var system = new NystromSystem<T>(be, kernel, x, metric, centres, ridge, options, cholesky, cancellationToken);
        int max = options.MaxIterations;
        var (iterations, converged, history, fitted) = system.Solve(
            y, beta, max, options.ToleranceFor<T>(), onIteration is null ? null : (i, r) => onIteration(new SolverProgress(round, i, max, r)), cancellationToken,
            trainingPredictions);
        if (trainingPredictions is not null && !fitted)
        {
            system.Predict(beta, trainingPredictions, cancellationToken);
        }

        return new NystromReport
        {
            Centres = centres.Rows,
            CentreIndices = Array.AsReadOnly((int[])indices.Clone()),
            Iterations = iterations,
            Converged = converged,
            ResidualHistory = history.AsReadOnly(),
            KernelMatrixStored = system.Stored,
            Jitter = system.Jitter,
        };
    }

    /// <summary>Logs a solve: jitter and a missed tolerance as warnings, the rest at Debug.</summary>
    public static void LogReport(Microsoft.Extensions.Logging.ILogger logger, int round, NystromReport report, double tolerance)
    {
        if (report.Jitter > 0)
        {
            Log.NystromJitter(logger, round, report.Jitter);
        }

        if (!report.Converged)
        {
            Log.NystromNotConverged(logger, round, report.Iterations, report.FinalResidual, tolerance);
        }

        Log.NystromSolved(logger, round, report.Centres, report.Iterations, report.FinalResidual, report.KernelMatrixStored ? "stored" : "streamed");
    }

    /// <summary>The rows <paramref name="indices"/> of a row-major host matrix with <paramref name="d"/> columns.</summary>
    public static T[] Gather<T>(T[] rows, int d, int[] indices)
    {
        var result = new T[indices.Length * d];
        for (int j = 0; j < indices.Length; j++)
        {
            rows.AsSpan(indices[j] * d, d).CopyTo(result.AsSpan(j * d, d));
        }

        return result;
    }

    /// <summary>Throws when β is not finite.</summary>
    public static void CheckFinite<T>(T[] beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<T>(beta))
        {
            throw new ArithmeticException("The Nyström solve produced non-finite coefficients: increase the ridge or use double precision.");
        }
    }
}

namespace FeatureLearning.Compute;

/// <summary>
/// Thrown when a Cholesky factorization fails even after the jitter retries allowed by
/// <see cref="CholeskyOptions"/>: the matrix is far from positive definite or contains NaN/∞.
/// </summary>
public sealed class MatrixNotPositiveDefiniteException : ArithmeticException
{
    /// <summary>Creates the exception with a default message.</summary>
    public MatrixNotPositiveDefiniteException()
        : base("The matrix is not positive definite.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public MatrixNotPositiveDefiniteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public MatrixNotPositiveDefiniteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the details of the last attempt.</summary>
    /// <param name="order">Order n of the matrix.</param>
    /// <param name="attempts">Number of attempts made.</param>
    /// <param name="lastJitter">Jitter of the last attempt.</param>
    /// <param name="failedPivot">Index of the pivot that failed in the last attempt.</param>
    public MatrixNotPositiveDefiniteException(int order, int attempts, double lastJitter, int failedPivot)
        : base($"Cholesky factorization of a {order} x {order} matrix failed after {attempts} attempt(s): pivot {failedPivot} was not positive " +
               $"(last jitter added to the diagonal: {lastJitter:G3}). The matrix is not positive definite or contains NaN/Inf; " +
               "increase the ridge, or allow more jitter through CholeskyOptions.")
    {
        Order = order;
        Attempts = attempts;
        LastJitter = lastJitter;
        FailedPivot = failedPivot;
    }

    /// <summary>
    /// The exception of <see cref="IComputeBackend.BatchedRidgeSolve{T}"/>: system <paramref name="system"/> of the batch
    /// (the lowest that failed), of order <paramref name="order"/>, has pivot <paramref name="failedPivot"/> not positive.
    /// </summary>
    internal static MatrixNotPositiveDefiniteException ForBatchedSystem(int system, int order, int failedPivot) =>
        new($"Batched Cholesky solve: system {system} ({order} x {order}) is not positive definite: pivot {failedPivot} was not positive " +
            "(or the system holds NaN/Inf). Increase the ridge.")
        {
            Order = order,
            Attempts = 1,
            FailedPivot = failedPivot,
            FailedSystem = system,
        };

    /// <summary>The system of a batched solve that failed (the lowest one), or −1 for a single factorization.</summary>
    public int FailedSystem { get; private init; } = -1;

    /// <summary>Order of the matrix.</summary>
    public int Order { get; private init; }

    /// <summary>Number of factorization attempts made.</summary>
    public int Attempts { get; private init; }

    /// <summary>Jitter added in the last attempt.</summary>
    public double LastJitter { get; private init; }

    /// <summary>Pivot index at which the last attempt failed.</summary>
    public int FailedPivot { get; private init; }
}

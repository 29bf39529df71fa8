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

    /// <summary>Order of the matrix.</summary>
    public int Order { get; }

    /// <summary>Number of factorization attempts made.</summary>
    public int Attempts { get; }

    /// <summary>Jitter added in the last attempt.</summary>
    public double LastJitter { get; }

    /// <summary>Pivot index at which the last attempt failed.</summary>
    public int FailedPivot { get; }
}

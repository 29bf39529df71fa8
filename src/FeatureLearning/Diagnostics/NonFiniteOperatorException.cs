namespace FeatureLearning.Diagnostics;

/// <summary>A symmetric operator returned NaN or ±∞ during a spectral computation: its result would be meaningless.</summary>
public sealed class NonFiniteOperatorException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    public NonFiniteOperatorException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was not finite, and where.</param>
    public NonFiniteOperatorException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public NonFiniteOperatorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

using Microsoft.Extensions.Logging;

namespace FeatureLearning;

/// <summary>The library's log messages (source-generated, allocation-free when disabled).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Kernel ridge: the {N} x {N} system (K + {Ridge} I) was not numerically positive definite; added jitter {Jitter:G3} to the diagonal after {Attempts} attempts.")]
    public static partial void JitterAdded(ILogger logger, int n, double ridge, double jitter, int attempts);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Kernel ridge fitted: n={N}, d={D}, outputs={C}, {ElapsedMs} ms on backend {Backend}.")]
    public static partial void KernelRidgeFitted(ILogger logger, int n, int d, int c, long elapsedMs, string backend);
}

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

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "RFM round {Iteration}: the kernel system was not numerically positive definite; added jitter {Jitter:G3} after {Attempts} attempts.")]
    public static partial void RfmJitter(ILogger logger, int iteration, double jitter, int attempts);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "RFM round {Iteration} of 0–{LastIteration}: train MSE {TrainMse:G4}, validation MSE {ValidationMse:G4}, validation accuracy {ValidationAccuracy:P2}, {Seconds:F3} s.")]
    public static partial void RfmIteration(ILogger logger, int iteration, int lastIteration, double trainMse, double validationMse, double validationAccuracy, double seconds);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "ConvRFM round {Iteration}: the kernel system was not numerically positive definite; added jitter {Jitter:G3} after {Attempts} attempts.")]
    public static partial void ConvRfmJitter(ILogger logger, int iteration, double jitter, int attempts);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "ConvRFM round {Iteration} of 0–{LastIteration}: train MSE {TrainMse:G4}, validation MSE {ValidationMse:G4}, validation accuracy {ValidationAccuracy:P2}, {Seconds:F3} s.")]
    public static partial void ConvRfmIteration(ILogger logger, int iteration, int lastIteration, double trainMse, double validationMse, double validationAccuracy, double seconds);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Nyström solve (round {Round}): CG reached its cap of {Iterations} iterations with relative residual {Residual:G3} (tolerance {Tolerance:G3}).")]
    public static partial void NystromNotConverged(ILogger logger, int round, int iterations, double residual, double tolerance);

    [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Nyström solve (round {Round}): m={Centres} centres, {Iterations} CG iterations, relative residual {Residual:G3}, K_nm {Mode}.")]
    public static partial void NystromSolved(ILogger logger, int round, int centres, int iterations, double residual, string mode);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Nyström solve (round {Round}): K_mm was not numerically positive definite; added jitter {Jitter:G3}.")]
    public static partial void NystromJitter(ILogger logger, int round, double jitter);
}

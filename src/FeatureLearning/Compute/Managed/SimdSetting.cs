namespace FeatureLearning.Compute.Managed;

/// <summary>
/// The SIMD restriction of the managed GEMM micro-kernel from the environment variable <c>FEATURELEARNING_SIMD</c>:
/// <c>512</c>, <c>256</c> or <c>scalar</c>; unset for the widest the CPU supports. Read once per process.
/// </summary>
internal static class SimdSetting
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "FEATURELEARNING_SIMD";

    private static readonly Lazy<string?> FromEnvironment = new(() => Parse(Environment.GetEnvironmentVariable(Variable)));

    /// <summary>The accepted values.</summary>
    public static IReadOnlyList<string> Accepted { get; } = ["512", "256", "scalar"];

    /// <summary>The process's setting (null: no restriction).</summary>
    /// <exception cref="InvalidOperationException">The variable holds a value that is not accepted (the message names it and the accepted values).</exception>
    public static string? Requested => FromEnvironment.Value;

    private static readonly Lazy<bool> Allow512 = new(() => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Requested is null or "512");
    private static readonly Lazy<bool> Allow256 = new(() => System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && Requested is not "scalar");

    /// <summary>Whether the library's own SIMD loops may use <c>Vector512</c>: accelerated here and not restricted by the variable.</summary>
    /// <exception cref="InvalidOperationException">The variable holds a value that is not accepted.</exception>
    public static bool Use512 => Allow512.Value;

    /// <summary>Whether they may use <c>Vector256</c>: accelerated here and the variable is not <c>scalar</c>.</summary>
    /// <exception cref="InvalidOperationException">The variable holds a value that is not accepted.</exception>
    public static bool Use256 => Allow256.Value;

    /// <summary>The setting a value of the variable asks for (null: no restriction).</summary>
    /// <exception cref="InvalidOperationException">The value is not accepted.</exception>
    public static string? Parse(string? value) => EnvironmentSetting.Parse(Variable, value, Accepted);
}

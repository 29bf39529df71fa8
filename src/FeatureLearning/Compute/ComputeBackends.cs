using System.Diagnostics.CodeAnalysis;

namespace FeatureLearning.Compute;

/// <summary>
/// Choosing a backend. Algorithms take a backend in their options; when none is given they use
/// <see cref="Default"/>, which the environment variable <c>FEATURELEARNING_BACKEND</c> (<c>managed</c>,
/// <c>native</c>, <c>ilgpu</c>) sets on first use, and <see cref="Default"/>'s setter overrides.
/// </summary>
/// <remarks>
/// <para><see cref="Default"/> is one instance for the whole process: fits running in parallel on several threads share
/// it, which every backend of this library supports (see the threading contract on <see cref="IComputeBackend"/>: the CPU
/// backends run concurrent calls side by side, the ILGPU backend one after the other). Do not dispose it while fits use it.
/// An unknown value of the variable throws <see cref="InvalidOperationException"/> naming the variable, the value and
/// the accepted names on first use, never a silent fallback.</para>
/// <para>The native and ILGPU backends live in their own packages (<c>FeatureLearning.Backends.Native</c>,
/// <c>FeatureLearning.Backends.Ilgpu</c>); they are found by type name when referenced, so the core package
/// does not depend on them.</para>
/// </remarks>
public static class ComputeBackends
{
    /// <summary>The environment variable that selects the default backend.</summary>
    public const string EnvironmentVariable = "FEATURELEARNING_BACKEND";

    private const string NativeTypeName = "FeatureLearning.Backends.Native.NativeBackend, FeatureLearning.Backends.Native";
    private const string IlgpuTypeName = "FeatureLearning.Backends.Ilgpu.IlgpuBackend, FeatureLearning.Backends.Ilgpu";

    private static readonly Lock Gate = new();
    private static IComputeBackend? defaultBackend;

    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["managed", "native", "ilgpu"];

    /// <summary>
    /// The process-wide default backend: on first read, the one named by <c>FEATURELEARNING_BACKEND</c>, else a
    /// <see cref="ManagedBackend"/>. Setting it replaces it for later calls (the previous one is not disposed).
    /// </summary>
    /// <exception cref="InvalidOperationException">The environment variable holds a value other than <c>managed</c>, <c>native</c> or <c>ilgpu</c> (the message names the variable, the value and the accepted values), or names a backend that cannot be created.</exception>
    public static IComputeBackend Default
    {
        get
        {
            lock (Gate)
            {
                return defaultBackend ??= FromEnvironment();
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (Gate)
            {
                defaultBackend = value;
            }
        }
    }

    /// <summary>Creates a backend by name.</summary>
    /// <param name="name"><c>managed</c>, <c>native</c> or <c>ilgpu</c> (case-insensitive).</param>
    /// <returns>A new backend; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    /// <exception cref="InvalidOperationException">The backend's package is not referenced or it failed to start.</exception>
    public static IComputeBackend Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name.Trim().ToUpperInvariant())
        {
            case "MANAGED":
                return new ManagedBackend();
            case "NATIVE":
                return CreateByType(Type.GetType(NativeTypeName, throwOnError: false), "native", "FeatureLearning.Backends.Native");
            case "ILGPU":
                return CreateByType(Type.GetType(IlgpuTypeName, throwOnError: false), "ilgpu", "FeatureLearning.Backends.Ilgpu");
            default:
                throw new ArgumentException($"Unknown backend '{name}'. Known backends: {string.Join(", ", Names)}.", nameof(name));
        }
    }

    /// <summary>The backend name a value of <c>FEATURELEARNING_BACKEND</c> asks for (null: unset, the managed backend).</summary>
    /// <exception cref="InvalidOperationException">The value names no backend; the message names the variable, the value and <see cref="Names"/>.</exception>
    internal static string? ParseSetting(string? value) => EnvironmentSetting.Parse(EnvironmentVariable, value, Names);

    private static IComputeBackend FromEnvironment()
    {
        string? name = ParseSetting(Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (name is null)
        {
            return new ManagedBackend();
        }

        try
        {
            return Create(name);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{EnvironmentVariable}='{name}': {e.Message}", e);
        }
    }

    private static IComputeBackend CreateByType(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] Type? type, string name, string package)
    {
        if (type is null)
        {
            throw new InvalidOperationException($"The '{name}' backend needs the {package} package: add a reference to it.");
        }

        try
        {
            return (IComputeBackend)Activator.CreateInstance(type)!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidOperationException($"The '{name}' backend could not start: {e.InnerException.Message}", e.InnerException);
        }
    }
}

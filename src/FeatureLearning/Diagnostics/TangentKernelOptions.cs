using FeatureLearning.Ntk;

namespace FeatureLearning.Diagnostics;

/// <summary>How <see cref="TangentKernelDiagnostics.Spectrum{T}"/> finds the spectrum of the empirical NTK.</summary>
public enum TangentKernelMethod
{
    /// <summary>Dense when n·c ≤ <see cref="TangentKernelOptions.DenseLimit"/>, Lanczos otherwise.</summary>
    Auto,

    /// <summary>Forms Θ by <see cref="EmpiricalNtk"/>.Compute and takes its full symmetric eigendecomposition (all n·c eigenvalues).</summary>
    Dense,

    /// <summary>The top <see cref="TangentKernelOptions.TopCount"/> eigenpairs and the smallest eigenvalue by <see cref="Lanczos"/> on <see cref="SymmetricOperator.TangentKernel{T}"/>, Θ never formed.</summary>
    Lanczos,
}

/// <summary>Options of <see cref="TangentKernelDiagnostics.Spectrum{T}"/>.</summary>
public sealed record TangentKernelOptions
{
    /// <summary>Dense, Lanczos or automatic. Default <see cref="TangentKernelMethod.Auto"/>.</summary>
    public TangentKernelMethod Method { get; init; } = TangentKernelMethod.Auto;

    /// <summary>The largest n·c for which <see cref="TangentKernelMethod.Auto"/> chooses the dense path (≥ 1). Default 2,048.</summary>
    public int DenseLimit { get; init; } = 2048;

    /// <summary>k (≥ 1, at most n·c): the top eigenpairs found by Lanczos and the top-k eigenspace of the loss split. Default 10.</summary>
    public int TopCount { get; init; } = 10;

    /// <summary>
    /// Tolerance, iteration cap and seed of the Lanczos path (its <see cref="LanczosOptions.Count"/>, <see cref="LanczosOptions.Which"/>
    /// and <see cref="LanczosOptions.ComputeVectors"/> are set by the diagnostics); <see langword="null"/> for the defaults.
    /// </summary>
    public LanczosOptions? Lanczos { get; init; }

    /// <summary>The block size of the dense kernel (its mode is always per output); <see langword="null"/> for the defaults.</summary>
    public EmpiricalNtkOptions? Kernel { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        Validation.DefinedEnum(Method, nameof(Method));
        if (DenseLimit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DenseLimit), DenseLimit, "The dense limit must be at least 1.");
        }

        if (TopCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TopCount), TopCount, "The top count must be at least 1.");
        }

        Kernel?.Validate();
    }
}

namespace FeatureLearning.Diagnostics;

/// <summary>Options of <see cref="SpectralDensity.Estimate{T}"/>.</summary>
public sealed record SpectralDensityOptions
{
    /// <summary>Independent Lanczos runs (random start vectors) averaged. Default 10.</summary>
    public int Runs { get; init; } = 10;

    /// <summary>Lanczos steps per run (quadrature nodes per run). Default 80.</summary>
    public int Steps { get; init; } = 80;

    /// <summary>
    /// The standard deviation of the Gaussian that smooths each node, in eigenvalue units; <see langword="null"/> for 1% of
    /// the width of the spectrum found (of its magnitude when every node is equal, 1 for the zero operator).
    /// </summary>
    public double? Sigma { get; init; }

    /// <summary>Points of the grid on which the density is evaluated. Default 512.</summary>
    public int GridPoints { get; init; } = 512;

    /// <summary>Seed of the start vectors. Default 0.</summary>
    public int Seed { get; init; }
}

using FeatureLearning.Kernels;

namespace FeatureLearning.Estimators;

/// <summary>
/// The hyper-parameter values a <see cref="HyperParameterSearch"/> tries: the grid is every combination of the lists
/// given; a list left null keeps the estimator's own value. One round (kernel ridge) has no M, so the grid does not
/// repeat it for both diagonal and full M.
/// </summary>
public sealed record SearchSpace
{
    /// <summary>Kernels to try (with their own bandwidths unless <see cref="Bandwidths"/> is given).</summary>
    public IReadOnlyList<IKernelFunction>? Kernels { get; init; }

    /// <summary>Bandwidths L to try with every kernel (Laplace, Gaussian and generalized Laplace kernels have one).</summary>
    public IReadOnlyList<double>? Bandwidths { get; init; }

    /// <summary>Ridges λ to try.</summary>
    public IReadOnlyList<double>? Ridges { get; init; }

    /// <summary>Numbers of rounds T to try (1 = kernel ridge).</summary>
    public IReadOnlyList<int>? Rounds { get; init; }

    /// <summary>Diagonal (true) and/or full (false) M to try.</summary>
    public IReadOnlyList<bool>? Diagonal { get; init; }

    /// <summary>Every combination, in a fixed order (kernels, then bandwidths, ridges, rounds, diagonal), validated.</summary>
    /// <param name="baseOptions">The estimator's options, which supply every value not searched.</param>
    /// <returns>The candidates, without repeats.</returns>
    /// <exception cref="ArgumentException">An empty list, a bandwidth for a kernel without one, or a value out of range (named).</exception>
    public IReadOnlyList<FeatureMachineOptions> Grid(FeatureMachineOptions baseOptions)
    {
        ArgumentNullException.ThrowIfNull(baseOptions);
        var kernels = Values(Kernels, baseOptions.Kernel, nameof(Kernels));
        var bandwidths = Bandwidths is null ? [double.NaN] : Values(Bandwidths, double.NaN, nameof(Bandwidths));
        var candidates = new List<FeatureMachineOptions>();
        foreach (var kernel in kernels)
        {
            foreach (double bandwidth in bandwidths)
            {
                var k = double.IsNaN(bandwidth) ? kernel : WithBandwidth(kernel, bandwidth, nameof(Bandwidths));
                foreach (double ridge in Values(Ridges, baseOptions.Ridge, nameof(Ridges)))
                {
                    foreach (int rounds in Values(Rounds, baseOptions.Rounds, nameof(Rounds)))
                    {
                        foreach (bool diagonal in Values(Diagonal, baseOptions.Diagonal, nameof(Diagonal)))
                        {
                            var options = baseOptions with { Kernel = k, Ridge = ridge, Rounds = rounds, Diagonal = rounds > 1 && diagonal };
                            if (!candidates.Contains(options))
                            {
                                options.Validate();
                                candidates.Add(options);
                            }
                        }
                    }
                }
            }
        }

        return candidates;
    }

    private static IReadOnlyList<T> Values<T>(IReadOnlyList<T>? values, T fallback, string name)
    {
        if (values is null)
        {
            return [fallback];
        }

        return values.Count > 0 ? values : throw new ArgumentException("A searched list must hold at least one value (leave it null to keep the estimator's).", name);
    }

    private static IKernelFunction WithBandwidth(IKernelFunction kernel, double bandwidth, string name) => kernel switch
    {
        LaplaceKernel k => k with { Bandwidth = bandwidth },
        GaussianKernel k => k with { Bandwidth = bandwidth },
        GeneralizedLaplaceKernel k => k with { Bandwidth = bandwidth },
        _ => throw new ArgumentException($"The kernel {kernel.Name} has no bandwidth to search; leave Bandwidths null for it.", name),
    };
}

using System.Numerics;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// The spectral density (eigenvalue histogram) of a symmetric operator by stochastic Lanczos quadrature (Lin, Saad and
/// Yang, 2016; Ghorbani, Krishnan and Xiao, 2019): for each run, m Lanczos steps from a random unit vector v give the
/// tridiagonal T = SΘSᵀ, and vᵀ f(A) v ≈ Σ_k τ_k f(θ_k) with nodes θ_k and weights τ_k = S[0, k]² — the squared
/// <em>first</em> components of T's eigenvectors (a library that used other components had wrong weights). Averaging
/// over runs and smoothing each node with a Gaussian gives the density, which integrates to 1.
/// </summary>
public static class SpectralDensity
{
    /// <summary>Estimates the spectral density of <paramref name="operator"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="operator">A, symmetric.</param>
    /// <param name="options">Runs, steps, smoothing, grid and seed; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Reported after each run (runs done).</param>
    /// <param name="cancellationToken">Checked before each Lanczos step.</param>
    /// <returns>Nodes, weights and the smoothed density.</returns>
    public static SpectralDensityResult Estimate<T>(ISymmetricOperator<T> @operator, SpectralDensityOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(@operator);
        options ??= new SpectralDensityOptions();
        if (options.Runs < 1 || options.Steps < 1 || options.GridPoints < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SpectralDensityOptions needs Runs ≥ 1, Steps ≥ 1 and GridPoints ≥ 2.");
        }

        if (options.Sigma is { } s)
        {
            Validation.PositiveFinite(s, nameof(options), "SpectralDensityOptions.Sigma");
        }

        int n = @operator.Dimension, steps = Math.Min(options.Steps, n);
        var random = new Random(options.Seed);
        var nodes = new List<double>();
        var weights = new List<double>();
        int products = 0;
        for (int run = 0; run < options.Runs; run++)
        {
            // A Rademacher start vector, normalised: E[vvᵀ] = I/n, so E[vᵀ f(A) v] = tr f(A)/n.
            var start = new double[n];
            for (int i = 0; i < n; i++)
            {
                start[i] = random.Next(2) == 0 ? -1 : 1;
            }

            var krylov = new Lanczos.KrylovBasis<T>(@operator, n, steps, options.Seed + run, restart: false, start);
            while (krylov.Size < steps && !krylov.Exhausted)
            {
                cancellationToken.ThrowIfCancellationRequested();
                krylov.Step();
            }

            products += krylov.Size;
            var (values, vectors) = krylov.Tridiagonal();
            for (int k = 0; k < values.Length; k++)
            {
                nodes.Add(values[k]);
                weights.Add(vectors[0, k] * vectors[0, k] / options.Runs);
            }

            progress?.Report(run + 1);
        }

        double lo = nodes.Min(), hi = nodes.Max();
        // 1% of the spectrum's width; for a single point (all nodes equal), 1% of its magnitude, or 1 for the zero operator.
        double width = hi - lo, scale = Math.Max(Math.Abs(lo), Math.Abs(hi));
        double sigma = options.Sigma ?? (width > 1e-12 * scale ? 0.01 * width : scale > 0 ? 0.01 * scale : 1.0);
        double a = lo - (4 * sigma), b = hi + (4 * sigma);
        var grid = new double[options.GridPoints];
        var density = new double[options.GridPoints];
        double norm = 1 / (sigma * Math.Sqrt(2 * Math.PI));
        if (!double.IsFinite(norm) || !double.IsFinite(b - a))
        {
            throw new ArgumentOutOfRangeException(nameof(options), sigma, "SpectralDensityOptions.Sigma is too small (or the spectrum too wide) for a finite density.");
        }

        for (int g = 0; g < grid.Length; g++)
        {
            double t = a + ((b - a) * g / (grid.Length - 1));
            grid[g] = t;
            double sum = 0;
            for (int k = 0; k < nodes.Count; k++)
            {
                double u = (t - nodes[k]) / sigma;
                sum += weights[k] * Math.Exp(-0.5 * u * u);
            }

            density[g] = sum * norm;
        }

        return new SpectralDensityResult { Nodes = nodes, Weights = weights, Sigma = sigma, Grid = grid, Density = density, Products = products };
    }
}

using System.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// Extreme eigenpairs of a symmetric operator by the Lanczos method with full reorthogonalisation (two passes of
/// classical Gram–Schmidt against every basis vector at every step), Ritz-residual convergence and a seeded start.
/// </summary>
/// <remarks>
/// Lanczos needs no gap at the top of the spectrum and no sign: on a spectrum symmetric about 0 (the output Hessian of a
/// ReLU network, ±λ) a power iteration on the Rayleigh quotient stalls between the two ends, while the Krylov space holds
/// both. When the recurrence meets an invariant subspace (β ≈ 0) it restarts with a fresh random vector orthogonal to
/// the basis and runs until that new block's extreme Ritz pair has converged as well, so a further copy of a wanted
/// eigenvalue of multiplicity above one is found by each restart. (A single Krylov space holds one copy of each
/// eigenvalue: a multiplicity that no invariant subspace reveals within the cap is not found.) The basis is kept in double
/// precision (memory: n × MaxIterations doubles); every reduction is a sequential loop, so a run is reproducible bit for
/// bit for a given seed and operator.
/// </remarks>
public static class Lanczos
{
    /// <summary>The <see cref="LanczosOptions.Count"/> eigenpairs at one end of the spectrum of <paramref name="operator"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="operator">A, symmetric.</param>
    /// <param name="options">What to find; <see langword="null"/> for the defaults (the largest-magnitude eigenvalue).</param>
    /// <param name="progress">Reported after each convergence check.</param>
    /// <param name="cancellationToken">Checked before each operator application.</param>
    /// <returns>The eigenpairs, residuals and counts.</returns>
    /// <exception cref="ArgumentException">Invalid options (naming the option).</exception>
    /// <exception cref="NonFiniteOperatorException">A product was not finite.</exception>
    public static LanczosResult<T> Eigenpairs<T>(ISymmetricOperator<T> @operator, LanczosOptions? options = null, IProgress<LanczosProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(@operator);
        options ??= new LanczosOptions();
        int n = @operator.Dimension;
        if (options.Count < 1 || options.Count > n)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Count, $"LanczosOptions.Count must be between 1 and the dimension {n}.");
        }

        Validation.DefinedEnum(options.Which, nameof(options));
        Validation.PositiveFinite(options.Tolerance, nameof(options), "LanczosOptions.Tolerance");
        int cap = Math.Min(n, options.MaxIterations ?? Math.Max(40, (4 * options.Count) + 20));
        if (cap < options.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, $"LanczosOptions.MaxIterations must be at least Count = {options.Count}.");
        }

        var krylov = new KrylovBasis<T>(@operator, n, cap, options.Seed, restart: true);
        int k = options.Count;
        RitzPairs? ritz = null;
        bool converged = false;
        while (krylov.Size < cap)
        {
            cancellationToken.ThrowIfCancellationRequested();
            krylov.Step();

            // Check every step once k pairs exist (the tridiagonal eigenproblem is tiny next to an application).
            if (krylov.Size >= k)
            {
                ritz = krylov.Ritz(options.Which, k);
                double norm = krylov.NormEstimate;
                double worst = norm == 0 ? 0 : ritz.Residuals.Max() / norm;
                progress?.Report(new LanczosProgress(krylov.Size, cap, worst));

                // After a restart the pairs found so far have residual 0 (T decouples), but the new block may hold another
                // copy of a wanted eigenvalue: accept only once the new block's own extreme Ritz pair has converged too.
                bool settled = !krylov.JustRestarted && krylov.CurrentBlockConverged(options.Which, options.Tolerance);
                if ((worst <= options.Tolerance && settled) || krylov.Size == n)
                {
                    converged = true;
                    break;
                }
            }
        }

        ritz ??= krylov.Ritz(options.Which, k);
        return new LanczosResult<T>
        {
            Eigenvalues = ritz.Values,
            Residuals = ritz.Residuals,
            Eigenvectors = options.ComputeVectors ? krylov.Vectors(ritz) : null,
            Iterations = krylov.Size,
            Converged = converged,
            Restarts = krylov.Restarts,
        };
    }

    /// <summary>Ritz values, residuals and their eigenvectors in the Krylov basis (columns of S).</summary>
    internal sealed record RitzPairs(double[] Values, double[] Residuals, double[][] Coefficients);

    /// <summary>
    /// The Lanczos recurrence with full reorthogonalisation: the orthonormal basis q₀, q₁, … and the tridiagonal T (α on
    /// the diagonal, β off it; β = 0 after a restart).
    /// </summary>
    internal sealed class KrylovBasis<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ISymmetricOperator<T> op;
        private readonly int n;
        private readonly bool restart;
        private readonly Random random;
        private readonly List<double[]> basis = [];
        private readonly List<double> alpha = [];
        private readonly List<double> beta = []; // beta[j] couples q_j and q_(j+1)
        private double[]? next;

        public KrylovBasis(ISymmetricOperator<T> op, int n, int capacity, int seed, bool restart, double[]? start = null)
        {
            this.op = op;
            this.n = n;
            this.restart = restart;
            random = new Random(seed);
            basis.Capacity = capacity;
            var q = start ?? RandomVector();
            Normalise(q, Norm(q));
            next = q;
        }

        public int Size => alpha.Count;

        public int Restarts { get; private set; }

        /// <summary>Whether the last step met an invariant subspace and restarted (the new block has not begun).</summary>
        public bool JustRestarted { get; private set; }

        /// <summary>The index of the first basis vector of the current block (0 before any restart).</summary>
        public int BlockStart { get; private set; }

        /// <summary>Whether the recurrence stopped at an invariant subspace (only without restarts).</summary>
        public bool Exhausted => next is null;

        /// <summary>The largest |θ| seen, an estimate of ‖A‖ (at least the largest |α|).</summary>
        public double NormEstimate { get; private set; }

        public IReadOnlyList<double> Alpha => alpha;

        public IReadOnlyList<double> Beta => beta;

        public void Step()
        {
            var q = next ?? throw new InvalidOperationException("The Krylov basis is exhausted.");
            if (JustRestarted)
            {
                BlockStart = basis.Count;
                JustRestarted = false;
            }

            basis.Add(q);
            var w = Apply(q);
            int j = basis.Count - 1;
            double a = Dot(q, w);
            alpha.Add(a);
            Axpy(-a, q, w);
            if (j > 0)
            {
                Axpy(-beta[j - 1], basis[j - 1], w);
            }

            // Full reorthogonalisation, twice ("twice is enough").
            Orthogonalize(basis, w);

            double bNorm = Norm(w);
            NormEstimate = Math.Max(NormEstimate, Math.Abs(a) + bNorm + (j > 0 ? beta[j - 1] : 0));
            if (basis.Count == n)
            {
                beta.Add(0);
                next = null;
                return;
            }

            // An invariant subspace: ‖w‖ is rounding noise next to ‖A‖.
            if (bNorm <= 1e-12 * Math.Max(NormEstimate, double.Epsilon))
            {
                beta.Add(0);
                if (!restart)
                {
                    next = null;
                    return;
                }

                Restarts++;
                JustRestarted = true;
                w = RandomVector();
                Orthogonalize(basis, w);

                Normalise(w, Norm(w));
                next = w;
                return;
            }

            beta.Add(bNorm);
            Normalise(w, bNorm);
            next = w;
        }

        /// <summary>The eigendecomposition of T: values ascending, and the matching eigenvectors (columns).</summary>
        public (double[] Values, Matrix<double> Vectors) Tridiagonal()
        {
            int m = Size;
            var t = Matrix<double>.Build.Dense(m, m);
            for (int i = 0; i < m; i++)
            {
                t[i, i] = alpha[i];
                if (i + 1 < m)
                {
                    t[i, i + 1] = t[i + 1, i] = beta[i];
                }
            }

            var evd = t.Evd(Symmetricity.Symmetric);
            return (evd.EigenValues.Select(v => v.Real).ToArray(), evd.EigenVectors);
        }

        /// <summary>
        /// Whether the extreme Ritz pair (at the wanted end) of the current block — T restricted to the vectors since the last
        /// restart — has converged; true before any restart (the whole T is that block).
        /// </summary>
        public bool CurrentBlockConverged(SpectrumEnd which, double tolerance)
        {
            if (BlockStart == 0)
            {
                return true;
            }

            int m = Size - BlockStart;
            var t = Matrix<double>.Build.Dense(m, m);
            for (int i = 0; i < m; i++)
            {
                t[i, i] = alpha[BlockStart + i];
                if (i + 1 < m)
                {
                    t[i, i + 1] = t[i + 1, i] = beta[BlockStart + i];
                }
            }

            var evd = t.Evd(Symmetricity.Symmetric);
            var values = evd.EigenValues.Select(v => v.Real).ToArray();
            int best = which switch
            {
                SpectrumEnd.Largest => Array.IndexOf(values, values.Max()),
                SpectrumEnd.Smallest => Array.IndexOf(values, values.Min()),
                _ => Enumerable.Range(0, m).MaxBy(i => Math.Abs(values[i])),
            };
            double residual = Math.Abs(beta[Size - 1] * evd.EigenVectors[m - 1, best]);
            return NormEstimate == 0 || residual <= tolerance * NormEstimate;
        }

        public RitzPairs Ritz(SpectrumEnd which, int k)
        {
            var (values, vectors) = Tridiagonal();
            int m = values.Length;
            var order = Enumerable.Range(0, m);
            order = which switch
            {
                SpectrumEnd.Largest => order.OrderByDescending(i => values[i]),
                SpectrumEnd.Smallest => order.OrderBy(i => values[i]),
                _ => order.OrderByDescending(i => Math.Abs(values[i])),
            };
            var chosen = order.Take(k).ToArray();
            double lastBeta = beta[m - 1];
            NormEstimate = Math.Max(NormEstimate, values.Max(Math.Abs));
            return new RitzPairs(
                chosen.Select(i => values[i]).ToArray(),
                chosen.Select(i => Math.Abs(lastBeta * vectors[m - 1, i])).ToArray(),
                chosen.Select(i => vectors.Column(i).ToArray()).ToArray());
        }

        public Matrix<T> Vectors(RitzPairs ritz)
        {
            var result = Matrix<T>.Build.Dense(n, ritz.Values.Length);
            var u = new double[n];
            for (int c = 0; c < ritz.Values.Length; c++)
            {
                Array.Clear(u);
                for (int j = 0; j < ritz.Coefficients[c].Length; j++)
                {
                    Axpy(ritz.Coefficients[c][j], basis[j], u);
                }

                Normalise(u, Norm(u));
                for (int i = 0; i < n; i++)
                {
                    result[i, c] = T.CreateChecked(u[i]);
                }
            }

            return result;
        }

        private double[] Apply(double[] q)
        {
            var v = Matrix<T>.Build.Dense(n, 1, (i, _) => T.CreateChecked(q[i]));
            var av = op.Apply(v);
            if (av.RowCount != n || av.ColumnCount != 1)
            {
                throw new InvalidOperationException($"The operator returned a {av.RowCount} x {av.ColumnCount} matrix for an {n} x 1 block.");
            }

            var w = new double[n];
            for (int i = 0; i < n; i++)
            {
                w[i] = double.CreateChecked(av[i, 0]);
                if (!double.IsFinite(w[i]))
                {
                    throw new NonFiniteOperatorException($"The operator returned a non-finite value (entry {i} is {w[i]}) at Lanczos step {basis.Count}: it is not finite at this point (a diverged network, or inputs out of range).");
                }
            }

            return w;
        }

        private double[] RandomVector()
        {
            var normal = new Normal(0, 1, random);
            var v = new double[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = normal.Sample();
            }

            return v;
        }
    }

    internal static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    internal static double Norm(double[] a) => Math.Sqrt(Dot(a, a));

    /// <summary>w ← w minus its projections on the orthonormal vectors <paramref name="basis"/>, in two passes of classical Gram–Schmidt.</summary>
    internal static void Orthogonalize(IReadOnlyList<double[]> basis, double[] w)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var b in basis)
            {
                Axpy(-Dot(b, w), b, w);
            }
        }
    }

    internal static void Axpy(double alpha, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }

    private static void Normalise(double[] v, double norm)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] /= norm;
        }
    }
}

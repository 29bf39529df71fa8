using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Ntk;

/// <summary>
/// Closed-form training dynamics of a kernel model (a linearised network and its NTK) under gradient descent on the
/// mean squared error, by eigendecomposition of the train kernel K = U·diag(λ)·Uᵀ.
/// </summary>
/// <remarks>
/// <para>Convention: the loss is ℒ(f) = (1/2n)·‖f − y‖² summed over the n training points and the c outputs, so one
/// gradient step of learning rate η changes the train outputs by f ← f − (η/n)·K·(f − y), and a test point by
/// f_test ← f_test − (η/n)·K_test,train·(f − y). Gradient flow is the continuous limit, with time t counted in
/// steps: f(t) − y = exp(−ηKt/n)·(f₀ − y), and f_test(t) = f_test,0 + K_test,train·U·diag((1 − e^{−ηλt/n})/λ)·Uᵀ(y − f₀).
/// After t discrete steps the factor e^{−ηλt/n} becomes (1 − ηλ/n)^t. Both reach, as t → ∞, the train targets on
/// the range of K and the minimum-norm interpolant f_test(∞) = f_test,0 + K_test,train·K⁺·(y − f₀).</para>
/// <para>Discrete steps are stable when every |1 − ηλ/n| &lt; 1, that is η &lt; <see cref="MaxStableLearningRate"/> = 2n/λ_max.
/// Above it the outputs grow geometrically, and overflow after enough steps.</para>
/// <para>Singular K: eigenvalues below n·10⁻¹⁴·λ_max are treated as zero. Along those directions the train outputs
/// stay at f₀ (their residual is never reduced) and the test outputs receive nothing (for a kernel with a feature map,
/// K_test,train·u = 0 for every u in the null space of K).</para>
/// </remarks>
public sealed class KernelGradientFlow
{
    private readonly Matrix<double> eigenvectors;
    private readonly double[] eigenvalues;
    private readonly int rank;
    private readonly Matrix<double> initialTrain;
    private readonly Matrix<double> residual; // Uᵀ(y − f₀), n × c
    private readonly Matrix<double>? testBasis; // K_test,train·U, m × n
    private readonly Matrix<double>? initialTest;

    /// <summary>Sets up the dynamics for c outputs.</summary>
    /// <param name="trainKernel">K_train, n × n, symmetric positive semidefinite.</param>
    /// <param name="targets">y, n × c.</param>
    /// <param name="initialTrainOutputs">f₀ on the training points, n × c (null: zero).</param>
    /// <param name="testTrainKernel">K_test,train, m × n (null: no test predictions).</param>
    /// <param name="initialTestOutputs">f_test,0, m × c (null: zero).</param>
    public KernelGradientFlow(Matrix<double> trainKernel, Matrix<double> targets, Matrix<double>? initialTrainOutputs = null, Matrix<double>? testTrainKernel = null, Matrix<double>? initialTestOutputs = null)
    {
        Validation.NonEmptyFinite(trainKernel, nameof(trainKernel));
        Validation.NonEmptyFinite(targets, nameof(targets));
        int n = trainKernel.RowCount;
        if (trainKernel.ColumnCount != n)
        {
            throw new ArgumentException($"The train kernel must be square, not {trainKernel.RowCount} x {trainKernel.ColumnCount}.", nameof(trainKernel));
        }

        if (targets.RowCount != n)
        {
            throw new ArgumentException($"The targets have {targets.RowCount} rows but the train kernel has {n}.", nameof(targets));
        }

        int c = targets.ColumnCount;
        double scale = trainKernel.Enumerate().Max(Math.Abs);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (Math.Abs(trainKernel[i, j] - trainKernel[j, i]) > 1e-10 * scale)
                {
                    throw new ArgumentException($"The train kernel is not symmetric: entries ({i}, {j}) and ({j}, {i}) are {trainKernel[i, j]:G6} and {trainKernel[j, i]:G6}.", nameof(trainKernel));
                }
            }
        }

        if (initialTrainOutputs is not null)
        {
            Validation.NonEmptyFinite(initialTrainOutputs, nameof(initialTrainOutputs));
            RequireShape(initialTrainOutputs, n, c, nameof(initialTrainOutputs));
        }

        initialTrain = initialTrainOutputs?.Clone() ?? Matrix<double>.Build.Dense(n, c);
        var symmetric = 0.5 * (trainKernel + trainKernel.Transpose());
        var evd = symmetric.Evd(Symmetricity.Symmetric);
        eigenvalues = evd.EigenValues.Select(v => v.Real).ToArray();
        eigenvectors = evd.EigenVectors;
        double max = eigenvalues.Max();
        if (eigenvalues.Min() < -1e-8 * Math.Max(max, 0))
        {
            throw new ArgumentException($"The train kernel is not positive semidefinite: its smallest eigenvalue is {eigenvalues.Min():G6} (largest {max:G6}).", nameof(trainKernel));
        }

        double tolerance = n * 1e-14 * Math.Max(max, 0);
        for (int i = 0; i < n; i++)
        {
            if (eigenvalues[i] <= tolerance)
            {
                eigenvalues[i] = 0;
            }
        }

        rank = eigenvalues.Count(v => v > 0);
        LargestEigenvalue = Math.Max(max, 0);
        residual = eigenvectors.TransposeThisAndMultiply(targets - initialTrain);

        if (testTrainKernel is not null)
        {
            Validation.NonEmptyFinite(testTrainKernel, nameof(testTrainKernel));
            if (testTrainKernel.ColumnCount != n)
            {
                throw new ArgumentException($"The test-train kernel has {testTrainKernel.ColumnCount} columns; one per training point ({n}) is needed.", nameof(testTrainKernel));
            }

            testBasis = testTrainKernel * eigenvectors;
            if (initialTestOutputs is not null)
            {
                Validation.NonEmptyFinite(initialTestOutputs, nameof(initialTestOutputs));
                RequireShape(initialTestOutputs, testTrainKernel.RowCount, c, nameof(initialTestOutputs));
            }

            initialTest = initialTestOutputs?.Clone() ?? Matrix<double>.Build.Dense(testTrainKernel.RowCount, c);
        }
        else if (initialTestOutputs is not null)
        {
            throw new ArgumentException("Initial test outputs were given without a test-train kernel.", nameof(initialTestOutputs));
        }
    }

    /// <summary>Sets up the dynamics for one output.</summary>
    /// <param name="trainKernel">K_train, n × n, symmetric positive semidefinite.</param>
    /// <param name="targets">y, length n.</param>
    /// <param name="initialTrainOutputs">f₀ on the training points (null: zero).</param>
    /// <param name="testTrainKernel">K_test,train, m × n (null: no test predictions).</param>
    /// <param name="initialTestOutputs">f_test,0, length m (null: zero).</param>
    public KernelGradientFlow(Matrix<double> trainKernel, Vector<double> targets, Vector<double>? initialTrainOutputs = null, Matrix<double>? testTrainKernel = null, Vector<double>? initialTestOutputs = null)
        : this(trainKernel, Column(targets, nameof(targets)), initialTrainOutputs is null ? null : Column(initialTrainOutputs, nameof(initialTrainOutputs)), testTrainKernel, initialTestOutputs is null ? null : Column(initialTestOutputs, nameof(initialTestOutputs)))
    {
    }

    /// <summary>The number n of training points.</summary>
    public int TrainCount => eigenvalues.Length;

    /// <summary>The number of eigenvalues of K treated as non-zero.</summary>
    public int Rank => rank;

    /// <summary>The eigenvalues of K in ascending order (those treated as zero are 0).</summary>
    public IReadOnlyList<double> Eigenvalues => eigenvalues;

    /// <summary>λ_max, the largest eigenvalue of K.</summary>
    public double LargestEigenvalue { get; }

    /// <summary>The largest stable learning rate of discrete gradient descent, 2n/λ_max (in the loss (1/2n)·‖f − y‖²); infinity when K = 0.</summary>
    public double MaxStableLearningRate => LargestEigenvalue > 0 ? 2.0 * TrainCount / LargestEigenvalue : double.PositiveInfinity;

    /// <summary>The train outputs under gradient flow after time <paramref name="time"/> (counted in steps of <paramref name="learningRate"/>).</summary>
    /// <param name="time">t ≥ 0; <see cref="double.PositiveInfinity"/> gives the limit.</param>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <returns>f(t), n × c.</returns>
    public Matrix<double> TrainPredictions(double time, double learningRate) =>
        Train(Decay(time, learningRate, discrete: false));

    /// <summary>The test outputs under gradient flow after time <paramref name="time"/> (counted in steps of <paramref name="learningRate"/>).</summary>
    /// <param name="time">t ≥ 0; <see cref="double.PositiveInfinity"/> gives the limit.</param>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <returns>f_test(t), m × c.</returns>
    public Matrix<double> TestPredictions(double time, double learningRate) =>
        Test(Decay(time, learningRate, discrete: false));

    /// <summary>The train outputs after <paramref name="steps"/> discrete gradient steps.</summary>
    /// <param name="steps">t ≥ 0.</param>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <returns>f after t steps, n × c.</returns>
    public Matrix<double> TrainPredictionsAfterSteps(int steps, double learningRate) =>
        Train(Decay(CheckSteps(steps), learningRate, discrete: true));

    /// <summary>The test outputs after <paramref name="steps"/> discrete gradient steps.</summary>
    /// <param name="steps">t ≥ 0.</param>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <returns>f_test after t steps, m × c.</returns>
    public Matrix<double> TestPredictionsAfterSteps(int steps, double learningRate) =>
        Test(Decay(CheckSteps(steps), learningRate, discrete: true));

    /// <summary>The train outputs at convergence (t = ∞, any stable learning rate): y on the range of K, f₀ off it.</summary>
    /// <returns>f(∞), n × c.</returns>
    public Matrix<double> TrainPredictionsAtConvergence() => Train(new double[TrainCount]);

    /// <summary>The test outputs at convergence: f_test,0 + K_test,train·K⁺·(y − f₀).</summary>
    /// <returns>f_test(∞), m × c.</returns>
    public Matrix<double> TestPredictionsAtConvergence() => Test(new double[TrainCount]);

    /// <summary>Per eigen-direction, the factor by which the residual has shrunk: e^{−ηλt/n} or (1 − ηλ/n)^t; 1 on the null space.</summary>
    private double[] Decay(double time, double learningRate, bool discrete)
    {
        if (!double.IsFinite(learningRate) || learningRate <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive and finite.");
        }

        if (double.IsNaN(time) || time < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "The time must be non-negative.");
        }

        int n = TrainCount;
        var decay = new double[n];
        for (int i = 0; i < n; i++)
        {
            double rate = learningRate * eigenvalues[i] / n;
            decay[i] = eigenvalues[i] == 0 ? 1
                : discrete ? Math.Pow(1 - rate, time)
                : double.IsPositiveInfinity(time) ? 0 : Math.Exp(-rate * time);
        }

        return decay;
    }

    private Matrix<double> Train(double[] decay)
    {
        // f = f₀ + U·diag(1 − decay)·Uᵀ(y − f₀).
        var weighted = Weighted(i => 1 - decay[i]);
        return initialTrain + (eigenvectors * weighted);
    }

    private Matrix<double> Test(double[] decay)
    {
        if (testBasis is null || initialTest is null)
        {
            throw new InvalidOperationException("No test-train kernel was given: test predictions need one.");
        }

        // f_test = f_test,0 + K_test,train·U·diag((1 − decay)/λ)·Uᵀ(y − f₀), nothing from the null space.
        var weighted = Weighted(i => eigenvalues[i] == 0 ? 0 : (1 - decay[i]) / eigenvalues[i]);
        return initialTest + (testBasis * weighted);
    }

    /// <summary>diag(coefficient)·Uᵀ(y − f₀), with a zero residual component contributing 0 even when its coefficient is infinite.</summary>
    private Matrix<double> Weighted(Func<int, double> coefficient)
    {
        var weighted = Matrix<double>.Build.Dense(residual.RowCount, residual.ColumnCount);
        for (int i = 0; i < residual.RowCount; i++)
        {
            double s = coefficient(i);
            for (int j = 0; j < residual.ColumnCount; j++)
            {
                double r = residual[i, j];
                weighted[i, j] = r == 0 ? 0 : s * r;
            }
        }

        return weighted;
    }

    private static int CheckSteps(int steps) => steps >= 0 ? steps
        : throw new ArgumentOutOfRangeException(nameof(steps), steps, "The number of steps must be non-negative.");

    private static void RequireShape(Matrix<double> m, int rows, int columns, string name)
    {
        if (m.RowCount != rows || m.ColumnCount != columns)
        {
            throw new ArgumentException($"Expected a {rows} x {columns} matrix, not {m.RowCount} x {m.ColumnCount}.", name);
        }
    }

    private static Matrix<double> Column(Vector<double> v, string name)
    {
        ArgumentNullException.ThrowIfNull(v, name);
        return v.ToColumnMatrix();
    }
}

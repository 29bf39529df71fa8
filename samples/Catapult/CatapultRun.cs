using FeatureLearning.Compute;
using FeatureLearning.Diagnostics;
using FeatureLearning.Networks;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples.Catapult;

/// <summary>Which model gradient descent trains: the network, its quadratic model or its linearisation at init.</summary>
internal enum CatapultModel
{
    Network,
    Quadratic,
    Linear,
}

/// <summary>One step of the run: the loss and the top NTK eigenvalue (in the loss's normalisation) before the update.</summary>
internal readonly record struct CatapultStep(int Step, double Loss, double TopEigenvalue);

/// <summary>
/// The summary of a run. Outcome: "dead" (a ReLU network whose every hidden unit went inactive on x: λ = 0 at the end,
/// f = 0, stuck at the loss ½y²), "diverged" (a loss that is not finite or above 10¹⁰·L₀, or a last loss above L₀), and
/// otherwise that of the <see cref="CatapultDetector"/> on the steps' (step, loss, λ): "catapult" (the loss rose above L₀
/// and λ dropped while it was above), "spike" (the loss rose above L₀ without a drop of λ) or "monotone" (it never rose
/// above L₀).
/// </summary>
internal sealed record CatapultOutcome(string Outcome, double InitialLoss, double InitialEigenvalue, double LearningRate, double MaxLossRatio, double FinalLossRatio, double FinalLambdaRatio, IReadOnlyList<CatapultStep> Steps, CatapultDetection Detection);

/// <summary>
/// The catapult experiment of Lewkowycz et al. (2020) and Zhu et al. (2023): f(x) = (1/√m)·Σᵢ vᵢ·relu(uᵢᵀx/√d) (one hidden
/// ReLU layer, NTK parameterisation, σ_w = 1, σ_b = 0, u ~ N(0, I), v = ±1 with equal probability), one training point x
/// with ‖x‖² = d and y = 1, the MSE L = ½(f − y)², trained by full-batch GD with η = (ηλ₀)/λ₀. With one point and one
/// output the NTK is the scalar λ = ‖∇_w f‖² (in the loss's normalisation 1/n = 1), so every step costs one forward pass
/// and one vector-Jacobian product of the model being trained, and λ is exact.
/// </summary>
internal static class CatapultRun
{
    /// <summary>Runs GD for <paramref name="steps"/> steps (or until the loss leaves the double range).</summary>
    public static CatapultOutcome Run(int width, int d, double etaLambda, int steps, int seed, CatapultModel model, IComputeBackend? backend = null, Action<CatapultStep>? onStep = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (!(etaLambda > 0) || !double.IsFinite(etaLambda))
        {
            throw new ArgumentOutOfRangeException(nameof(etaLambda), etaLambda, "ηλ₀ must be positive and finite.");
        }

        var architecture = new NetworkArchitecture
        {
            InputDimension = d, HiddenWidths = [width], OutputDimension = 1, Activation = Activation.Relu,
            Parameterization = Parameterization.Ntk, WeightStd = 1, BiasStd = 0, OutputScale = 1,
        };
        using var network = FullyConnectedNetwork<double>.Create(architecture, seed, backend: backend);
        // The readout weights v follow W₀ (m·d) and b₀ (m) in the flat layout; the setup draws them as ±1.
        var w = network.GetParameters();
        int readout = (width * d) + width;
        for (int i = 0; i < width; i++)
        {
            w[readout + i] = w[readout + i] >= 0 ? 1 : -1;
        }

        network.SetParameters(w);
        var normal = new Normal(0, 1, new Random(seed + 1_000_003));
        var x = Vector<double>.Build.Dense(d, _ => normal.Sample());
        x *= Math.Sqrt(d) / x.L2Norm();
        var inputs = x.ToRowMatrix();
        var one = Matrix<double>.Build.Dense(1, 1, 1.0);
        using var taylor = model == CatapultModel.Network ? null
            : NetworkTaylorModel<double>.Create(network, model == CatapultModel.Quadratic ? TaylorOrder.Quadratic : TaylorOrder.Linear);
        Func<Matrix<double>> predict = taylor is null ? () => network.Predict(inputs) : () => taylor.Predict(inputs);
        Func<Vector<double>> gradient = taylor is null ? () => network.VectorJacobianProduct(inputs, one) : () => taylor.VectorJacobianProduct(inputs, one);
        Action<Vector<double>> set = taylor is null ? network.SetParameters : taylor.SetParameters;

        var history = new List<CatapultStep>();
        double eta = double.NaN, loss0 = double.NaN, lambda0 = double.NaN, maxLoss = 0;
        bool diverged = false;
        for (int t = 0; t < steps; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double residual = predict()[0, 0] - 1.0;
            var grad = gradient();
            double loss = 0.5 * residual * residual, lambda = grad * grad;
            if (t == 0)
            {
                loss0 = loss;
                lambda0 = lambda;
                eta = etaLambda / lambda0;
            }

            var step = new CatapultStep(t, loss, lambda);
            history.Add(step);
            onStep?.Invoke(step);
            maxLoss = Math.Max(maxLoss, loss);
            if (!double.IsFinite(loss) || !double.IsFinite(lambda) || loss > 1e10 * loss0)
            {
                diverged = true;
                break;
            }

            w -= eta * residual * grad;
            set(w);
        }

        var last = history[^1];
        bool dead = !diverged && last.TopEigenvalue <= 1e-12 * lambda0;
        diverged |= !dead && last.Loss > loss0;
        var detection = CatapultDetector.Detect(history.Select(s => new CatapultObservation(s.Step, s.Loss, s.TopEigenvalue)).ToArray());
        string outcome = diverged ? "diverged" : dead ? "dead" : OutcomeOf(detection);
        return new CatapultOutcome(outcome, loss0, lambda0, eta, maxLoss / loss0, last.Loss / loss0, last.TopEigenvalue / lambda0, history, detection);
    }

    /// <summary>The outcome of a run that neither diverged nor died, from the catapult detector.</summary>
    public static string OutcomeOf(CatapultDetection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        return detection.IsCatapult ? "catapult" : detection.Spiked ? "spike" : "monotone";
    }
}

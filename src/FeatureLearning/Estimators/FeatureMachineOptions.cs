using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;

namespace FeatureLearning.Estimators;

/// <summary>
/// Options of <see cref="FeatureMachineClassifier"/> and <see cref="FeatureMachineRegressor"/>: the kernel, the ridge,
/// the number of RFM rounds (1 = plain kernel ridge), diagonal or full M, and the feature scaling the model keeps.
/// </summary>
public sealed record FeatureMachineOptions
{
    /// <summary>The kernel profile and its bandwidth (default Laplace, L = 10).</summary>
    public IKernelFunction Kernel { get; init; } = new LaplaceKernel(10.0);

    /// <summary>The ridge λ ≥ 0 of each kernel solve.</summary>
    public double Ridge { get; init; } = 1e-3;

    /// <summary>
    /// Number of rounds T ≥ 1. T = 1 fits plain kernel ridge (<see cref="KernelRidge"/>) with the identity metric;
    /// T &gt; 1 fits a <see cref="RecursiveFeatureMachine"/> with T rounds (numbered 0 … T − 1).
    /// </summary>
    public int Rounds { get; init; } = 5;

    /// <summary>
    /// When <c>Fit</c> gets no validation set: the fraction of the training rows held out to choose the RFM round (by
    /// class for the classifier, so each class keeps its proportion; seeded by <see cref="ValidationSeed"/>), like a
    /// validation split done by hand. The held-out rows are not trained on. Per class the count is rounded, at least one
    /// row stays on each side of a class of two or more, and a class of one stays in the fit set. 0 (the default) holds
    /// out nothing and keeps the last round. In [0, 1); ignored for kernel ridge (T = 1) and when a validation set is passed.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>Seed of the split of <see cref="ValidationFraction"/>. Default 0.</summary>
    public int ValidationSeed { get; init; }

    /// <summary>Learn a diagonal M (per-feature scales) instead of a full one (RFM only).</summary>
    public bool Diagonal { get; init; }

    /// <summary>
    /// Standardise each feature with the training data's mean and standard deviation before fitting (default true).
    /// The scaler is part of the fitted model: it is applied at predict time and saved with the model.
    /// </summary>
    public bool Standardize { get; init; } = true;

    /// <summary>
    /// The temperature τ &gt; 0 of <see cref="FittedClassifier{TLabel}.PredictProbabilities"/>: the probabilities are
    /// softmax(f(x) / τ) of the kernel outputs f (fitted to one-hot targets, so about 1 for the predicted class and 0 for
    /// the others). Default 0.1. They are not calibrated; their arg max is <see cref="FittedClassifier{TLabel}.Predict"/>.
    /// </summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>
    /// Further RFM settings (AGOP power, centred gradients, AGOP sample, normalisation, block size, seed, selection
    /// metric, …); null for the defaults of <see cref="RfmOptions"/>. Its kernel, ridge, rounds, diagonal, backend and
    /// callback are replaced by the ones here.
    /// </summary>
    public RfmOptions? Rfm { get; init; }

    /// <summary>
    /// Called synchronously on the fitting thread with each RFM round's record, in order, before <c>Fit</c> returns
    /// (see <see cref="RfmOptions.OnRound"/>); not called for kernel ridge.
    /// </summary>
    public Action<RfmIteration>? OnRound { get; init; }

    /// <summary>The compute backend; null for <see cref="ComputeBackends.Default"/>.</summary>
    public IComputeBackend? Backend { get; init; }

    /// <summary>Checks the options, throwing an <see cref="ArgumentException"/> that names a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Validation.KernelAndRidge(Kernel, Ridge);
        ArgumentOutOfRangeException.ThrowIfLessThan(Rounds, 1, nameof(Rounds));
        Validation.PositiveFinite(Temperature, nameof(Temperature), "temperature");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "The validation fraction must lie in [0, 1).");
        }

        if (Rounds > 1)
        {
            ToRfmOptions().Validate();
        }
    }

    /// <summary>The options of the kernel ridge fit (T = 1).</summary>
    /// <returns>The options.</returns>
    public KernelRidgeOptions ToKernelRidgeOptions() => new() { Kernel = Kernel, Ridge = Ridge, Backend = Backend };

    /// <summary>The options of the RFM fit (T &gt; 1): <see cref="Rfm"/> with this record's kernel, ridge, rounds, diagonal, backend and callback.</summary>
    /// <returns>The options.</returns>
    public RfmOptions ToRfmOptions() => (Rfm ?? new RfmOptions()) with
    {
        Kernel = Kernel,
        Ridge = Ridge,
        Rounds = Rounds,
        Diagonal = Diagonal,
        Backend = Backend,
        OnRound = OnRound,
    };

    /// <summary>A one-line description of the hyper-parameters, e.g. <c>Laplace(L=10), ridge 0.001, 5 rounds, full M</c>.</summary>
    /// <returns>The description.</returns>
    public string Describe() =>
        $"{Kernel.Name}, ridge {Ridge:G3}, " + (Rounds == 1 ? "kernel ridge" : $"{Rounds} rounds, {(Diagonal ? "diagonal" : "full")} M");
}

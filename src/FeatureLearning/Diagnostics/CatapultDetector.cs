namespace FeatureLearning.Diagnostics;

/// <summary>One observation of a training run for <see cref="CatapultDetector"/>.</summary>
/// <param name="Step">The step (number of updates taken); strictly increasing along a sequence.</param>
/// <param name="Loss">The training loss at that step.</param>
/// <param name="TopEigenvalue">The top eigenvalue of the tangent kernel at that step (any fixed normalisation).</param>
public readonly record struct CatapultObservation(int Step, double Loss, double TopEigenvalue);

/// <summary>Options of <see cref="CatapultDetector"/>.</summary>
public sealed record CatapultDetectorOptions
{
    /// <summary>
    /// The relative margin of a spike (finite, ≥ 0): the loss spikes at the first observation with L &gt; L₀·(1 + margin),
    /// L₀ the first loss. Default 1e-9 (any rise beyond rounding).
    /// </summary>
    public double SpikeTolerance { get; init; } = 1e-9;

    /// <summary>
    /// The relative margin of a drop (in [0, 1)): the top eigenvalue drops at the first observation of the spike window with
    /// λ &lt; λ_before·(1 − margin). Default 1e-9.
    /// </summary>
    public double DropTolerance { get; init; } = 1e-9;

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        Validation.NonNegativeFinite(SpikeTolerance, nameof(SpikeTolerance), "spike tolerance");
        if (!double.IsFinite(DropTolerance) || DropTolerance < 0 || DropTolerance >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DropTolerance), DropTolerance, "The drop tolerance must be in [0, 1).");
        }
    }
}

/// <summary>
/// The outcome of <see cref="CatapultDetector.Detect(IReadOnlyList{CatapultObservation}, CatapultDetectorOptions?)"/>. Steps
/// and sizes are <see langword="null"/> when the event they describe did not happen.
/// </summary>
public sealed record CatapultDetection
{
    /// <summary>Whether the run catapulted: a loss spike above L₀ and, within the spike window, a drop of the top eigenvalue.</summary>
    public required bool IsCatapult { get; init; }

    /// <summary>Whether the loss rose above L₀ (with or without an eigenvalue drop).</summary>
    public required bool Spiked { get; init; }

    /// <summary>
    /// Whether an observation was not finite (loss or eigenvalue); the detection then used only the observations before
    /// the first such one, and <see cref="DivergedStep"/> names it.
    /// </summary>
    public required bool Diverged { get; init; }

    /// <summary>The step of the first observation that was not finite.</summary>
    public int? DivergedStep { get; init; }

    /// <summary>L₀, the loss of the first observation.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>λ₀, the top eigenvalue of the first observation.</summary>
    public required double InitialEigenvalue { get; init; }

    /// <summary>The first step with L &gt; L₀·(1 + <see cref="CatapultDetectorOptions.SpikeTolerance"/>).</summary>
    public int? SpikeStep { get; init; }

    /// <summary>The step of the largest loss in the spike window.</summary>
    public int? PeakStep { get; init; }

    /// <summary>The size of the spike, L_peak / L₀.</summary>
    public double? PeakLossRatio { get; init; }

    /// <summary>The first step after the spike with L ≤ L₀ (the end of the spike window); <see langword="null"/> when the loss never came back.</summary>
    public int? RecoveryStep { get; init; }

    /// <summary>λ_before, the top eigenvalue at the last observation before the spike.</summary>
    public double? EigenvalueBefore { get; init; }

    /// <summary>The first step in the spike window with λ &lt; λ_before·(1 − <see cref="CatapultDetectorOptions.DropTolerance"/>).</summary>
    public int? DropStep { get; init; }

    /// <summary>The smallest top eigenvalue in the spike window.</summary>
    public double? EigenvalueAfter { get; init; }

    /// <summary>The size of the drop, <see cref="EigenvalueAfter"/> / <see cref="EigenvalueBefore"/> (below 1 for a catapult; <see langword="null"/> when λ_before is 0).</summary>
    public double? EigenvalueRatio { get; init; }
}

/// <summary>
/// Detects the catapult mechanism of Lewkowycz et al. (2020) in a training run: the loss spikes above its starting value
/// L₀ and, while it is above L₀, the top eigenvalue of the tangent kernel drops.
/// </summary>
/// <remarks>
/// Definitions (only the first spike is considered): the spike starts at the first observation s with
/// L_s &gt; L₀·(1 + ε_spike); the spike window runs from s to the first later observation with L ≤ L₀ (inclusive) or to the
/// end of the sequence; λ_before is the eigenvalue of the observation just before s; the eigenvalue drops at the first
/// observation t in the window with λ_t &lt; λ_before·(1 − ε_drop). A catapult is a spike with a drop. The first observation
/// is the reference, so it cannot spike. Observations after the first non-finite loss or eigenvalue are ignored and
/// <see cref="CatapultDetection.Diverged"/> is set.
/// </remarks>
public static class CatapultDetector
{
    /// <summary>Detects a catapult in a sequence of (step, loss, top eigenvalue).</summary>
    /// <param name="observations">At least one observation, steps strictly increasing.</param>
    /// <param name="options">The tolerances; <see langword="null"/> for the defaults.</param>
    /// <returns>The detection, with the steps and sizes of the spike and the drop.</returns>
    /// <exception cref="ArgumentException">An empty sequence, steps not strictly increasing, a first observation that is
    /// not finite, or invalid options.</exception>
    public static CatapultDetection Detect(IReadOnlyList<CatapultObservation> observations, CatapultDetectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        options ??= new CatapultDetectorOptions();
        options.Validate();
        if (observations.Count == 0)
        {
            throw new ArgumentException("At least one observation is needed.", nameof(observations));
        }

        for (int i = 1; i < observations.Count; i++)
        {
            if (observations[i].Step <= observations[i - 1].Step)
            {
                throw new ArgumentException($"The steps must increase strictly: observation {i} has step {observations[i].Step} after {observations[i - 1].Step}.", nameof(observations));
            }
        }

        var first = observations[0];
        if (!double.IsFinite(first.Loss) || !double.IsFinite(first.TopEigenvalue))
        {
            throw new ArgumentException($"The first observation must be finite (loss {first.Loss}, eigenvalue {first.TopEigenvalue}).", nameof(observations));
        }

        int count = observations.Count;
        int? divergedStep = null;
        for (int i = 0; i < observations.Count; i++)
        {
            if (!double.IsFinite(observations[i].Loss) || !double.IsFinite(observations[i].TopEigenvalue))
            {
                count = i;
                divergedStep = observations[i].Step;
                break;
            }
        }

        double l0 = first.Loss, threshold = l0 * (1 + options.SpikeTolerance);
        int spike = -1;
        for (int i = 1; i < count && spike < 0; i++)
        {
            if (observations[i].Loss > threshold)
            {
                spike = i;
            }
        }

        var detection = new CatapultDetection
        {
            IsCatapult = false, Spiked = spike >= 0, Diverged = divergedStep is not null, DivergedStep = divergedStep,
            InitialLoss = l0, InitialEigenvalue = first.TopEigenvalue,
        };
        if (spike < 0)
        {
            return detection;
        }

        int end = count - 1, peak = spike;
        int? recovery = null;
        for (int i = spike + 1; i < count; i++)
        {
            if (observations[i].Loss <= l0)
            {
                end = i;
                recovery = observations[i].Step;
                break;
            }
        }

        double before = observations[spike - 1].TopEigenvalue, dropBelow = before * (1 - options.DropTolerance), smallest = double.PositiveInfinity;
        int? drop = null;
        for (int i = spike; i <= end; i++)
        {
            var o = observations[i];
            if (o.Loss > observations[peak].Loss)
            {
                peak = i;
            }

            smallest = Math.Min(smallest, o.TopEigenvalue);
            if (drop is null && o.TopEigenvalue < dropBelow)
            {
                drop = o.Step;
            }
        }

        return detection with
        {
            IsCatapult = drop is not null,
            SpikeStep = observations[spike].Step,
            PeakStep = observations[peak].Step,
            PeakLossRatio = observations[peak].Loss / l0,
            RecoveryStep = recovery,
            EigenvalueBefore = before,
            DropStep = drop,
            EigenvalueAfter = smallest,
            EigenvalueRatio = before != 0 ? smallest / before : null,
        };
    }
}

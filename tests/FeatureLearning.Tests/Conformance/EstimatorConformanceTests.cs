using FeatureLearning.Compute;

namespace FeatureLearning.Tests.Conformance;

/// <summary>One way to hand an estimator bad input: the call, and the argument its exception must name.</summary>
/// <param name="Description">What is wrong.</param>
/// <param name="Call">Fits (or predicts) with the bad input.</param>
/// <param name="Argument">The <see cref="ArgumentException.ParamName"/> the call must report.</param>
public sealed record BadInput(string Description, Action Call, string Argument)
{
    public override string ToString() => Description;
}

/// <summary>
/// What the conformance suite needs to know about one estimator: a seeded small problem, how to fit, predict, save and
/// load, and which bad inputs it must refuse. <typeparamref name="TData"/> holds the training and the test inputs.
/// </summary>
public abstract class EstimatorCase<TData>
    where TData : notnull
{
    /// <summary>A small seeded problem (training and test inputs).</summary>
    public abstract TData Data(int seed);

    /// <summary>A deep copy of <paramref name="data"/>.</summary>
    public abstract TData Copy(TData data);

    /// <summary>Whether two problems hold bit-identical values.</summary>
    public abstract bool SameData(TData a, TData b);

    /// <summary>Fits on <paramref name="backend"/>, calling <paramref name="onProgress"/> synchronously after each report.</summary>
    /// <param name="bandwidthFactor">Multiplies the kernel bandwidth (for the scale-invariance check).</param>
    public abstract object Fit(TData data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1);

    /// <summary>The fitted model's predictions on the test inputs of <paramref name="data"/>, flattened.</summary>
    public abstract double[] Predict(object model, TData data);

    /// <summary>
    /// Everything the fit learned, as numbers (coefficients, metrics, the per-round errors): what must be bit-identical
    /// between two fits with one seed. The history's wall-clock seconds are not learned state and are left out.
    /// </summary>
    public abstract double[] LearnedState(object model);

    /// <summary>The model file's bytes; null when the model has no Save.</summary>
    public virtual byte[]? Save(object model) => null;

    /// <summary>The model read back from <paramref name="bytes"/>.</summary>
    public virtual object Load(byte[] bytes) => throw new NotSupportedException();

    /// <summary>Whether Fit reports progress (and so can be cancelled part-way).</summary>
    public virtual bool ReportsProgress => true;

    /// <summary>The test predictions of a single-precision fit; null when the estimator is double-only.</summary>
    public virtual double[]? PredictInSingle(TData data, IComputeBackend backend) => null;

    /// <summary>
    /// The problem with every input coordinate mapped to <c>scale · (v + shift)</c>; null when the estimator's kernel is
    /// not radial (only radial kernels are shift-invariant). Fit it with bandwidthFactor = scale.
    /// </summary>
    public virtual TData? Transform(TData data, double shift, double scale) => default;

    /// <summary>The bad inputs the estimator must refuse with an <see cref="ArgumentException"/> naming the argument.</summary>
    public abstract IEnumerable<BadInput> BadInputs(TData valid, IComputeBackend backend);

    /// <summary>How close predictions must stay under a shift of the inputs, relative to their largest magnitude.</summary>
    public virtual double ShiftTolerance => 1e-6;
}

/// <summary>
/// The estimator conformance suite, in the spirit of scikit-learn's <c>check_estimator</c>: every estimator of the
/// library subclasses it with an <see cref="EstimatorCase{TData}"/>. The promises it checks are listed in
/// docs/reliability.md.
/// </summary>
public abstract class EstimatorConformanceTests<TData>
    where TData : notnull
{
    protected abstract EstimatorCase<TData> Case { get; }

    private static double[] FitAndPredict(EstimatorCase<TData> c, TData data, IComputeBackend backend, double bandwidthFactor = 1) =>
        c.Predict(c.Fit(data, backend, null, CancellationToken.None, bandwidthFactor), data);

    private static double RelativeGap(double[] a, double[] b)
    {
        a.Length.Should().Be(b.Length);
        double scale = Math.Max(b.Max(Math.Abs), 1e-300);
        return a.Zip(b, (u, v) => Math.Abs(u - v)).Max() / scale;
    }

    [Fact]
    public void BadInputIsRefusedWithAnArgumentExceptionNamingTheArgument()
    {
        using var backend = new ManagedBackend();
        var bad = Case.BadInputs(Case.Data(1), backend).ToList();
        bad.Should().NotBeEmpty();
        foreach (var input in bad)
        {
            input.Call.Should().Throw<ArgumentException>(input.Description).Which.ParamName.Should().Be(input.Argument, input.Description);
        }
    }

    [Fact]
    public void InputsAreNeverMutated()
    {
        using var backend = new ManagedBackend();
        var data = Case.Data(2);
        var before = Case.Copy(data);
        var model = Case.Fit(data, backend, null, CancellationToken.None);
        Case.Predict(model, data);
        Case.Save(model);
        Case.SameData(data, before).Should().BeTrue("Fit, Predict and Save must not write to their inputs");
    }

    [Fact]
    public void TheSameSeedGivesBitIdenticalModels()
    {
        using var first = new ManagedBackend();
        using var second = new ManagedBackend();
        var m1 = Case.Fit(Case.Data(3), first, null, CancellationToken.None);
        var m2 = Case.Fit(Case.Data(3), second, null, CancellationToken.None);
        Case.Predict(m1, Case.Data(3)).Should().Equal(Case.Predict(m2, Case.Data(3)));
        Case.LearnedState(m1).Should().NotBeEmpty().And.Equal(Case.LearnedState(m2));
    }

    [Fact]
    public void SingleAgreesWithDouble()
    {
        using var backend = new ManagedBackend();
        var data = Case.Data(4);
        var single = Case.PredictInSingle(data, backend);
        if (single is null)
        {
            return; // double-only estimator: nothing to compare (the suite's other checks still run)
        }

        RelativeGap(single, FitAndPredict(Case, data, backend)).Should().BeLessThan(1e-3);
    }

    [Fact]
    public void SaveAndLoadRoundTripIsBitIdentical()
    {
        using var backend = new ManagedBackend();
        var data = Case.Data(5);
        var model = Case.Fit(data, backend, null, CancellationToken.None);
        var bytes = Case.Save(model);
        if (bytes is null)
        {
            return; // no Save on this model
        }

        var loaded = Case.Load(bytes);
        Case.Predict(loaded, data).Should().Equal(Case.Predict(model, data));
        Case.LearnedState(loaded).Should().Equal(Case.LearnedState(model));
        Case.Save(loaded).Should().Equal(bytes);
    }

    [Fact]
    public void CancellationIsPromptAndLeavesTheBackendUsable()
    {
        using var backend = new ManagedBackend();
        var data = Case.Data(6);
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            ((Action)(() => Case.Fit(data, backend, null, cancelled.Token))).Should().Throw<OperationCanceledException>();
        }

        if (Case.ReportsProgress)
        {
            // Cancelled at the first report, the fit must stop before it reports again.
            using var cts = new CancellationTokenSource();
            int reports = 0;
            ((Action)(() => Case.Fit(data, backend, () =>
            {
                reports++;
                cts.Cancel();
            }, cts.Token))).Should().Throw<OperationCanceledException>();
            reports.Should().Be(1);
        }

        using var fresh = new ManagedBackend();
        FitAndPredict(Case, data, backend).Should().Equal(FitAndPredict(Case, data, fresh), "a cancelled fit must leave the backend as usable as a new one");
    }

    [Fact]
    public void ShiftAndScaleOfTheInputsDoNotChangeARadialKernelsPredictions()
    {
        using var backend = new ManagedBackend();
        var data = Case.Data(7);
        if (Case.Transform(data, 0, 1) is null)
        {
            return; // not a radial kernel
        }

        var reference = FitAndPredict(Case, data, backend);
        foreach (double shift in new[] { 1e3, 1e6 })
        {
            RelativeGap(FitAndPredict(Case, Case.Transform(data, shift, 1)!, backend), reference).Should().BeLessThan(Case.ShiftTolerance, $"shift {shift}");
        }

        foreach (double scale in new[] { 1e-100, 1e-3, 1e3, 1e100 })
        {
            RelativeGap(FitAndPredict(Case, Case.Transform(data, 0, scale)!, backend, scale), reference).Should().BeLessThan(1e-9, $"scale {scale}");
        }
    }
}

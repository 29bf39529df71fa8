using FeatureLearning.Compute;

namespace FeatureLearning.Tests.Conformance;

/// <summary>
/// Every estimator on a backend against the same fit on the managed backend, in double and in single precision: the
/// cross-backend half of the conformance suite. Each backend's test project subclasses it (the managed backend's own
/// subclass checks that a serial managed backend, one worker thread, agrees with the default one).
/// </summary>
public abstract class CrossBackendEstimatorTests : IDisposable
{
    private readonly Lazy<IComputeBackend> backend;

    protected CrossBackendEstimatorTests() => backend = new Lazy<IComputeBackend>(CreateBackend);

    /// <summary>Why the backend cannot run here (null when it can).</summary>
    protected virtual string? SkipReason => null;

    /// <summary>Relative tolerance on double-precision predictions against the managed backend.</summary>
    protected virtual double DoubleTolerance => 1e-8;

    /// <summary>Relative tolerance on single-precision predictions against the managed backend in single precision.</summary>
    protected virtual double SingleTolerance => 2e-3;

    private IComputeBackend Backend
    {
        get
        {
            Skip.If(SkipReason is not null, SkipReason);
            return backend.Value;
        }
    }

    /// <summary>Creates the backend under test.</summary>
    protected abstract IComputeBackend CreateBackend();

    public static TheoryData<string> Estimators() => ["kernel ridge", "rfm", "sparse regression", "matrix completion", "convrfm", "deep convrfm"];

    [SkippableTheory]
    [MemberData(nameof(Estimators))]
    public void PredictionsMatchTheManagedBackend(string estimator)
    {
        var (mine, reference, single, singleReference) = estimator switch
        {
            "kernel ridge" => Compare(new KernelRidgeCase(), 31),
            "rfm" => Compare(new RfmCase(), 32),
            "sparse regression" => Compare(new SparseRegressionCase(), 33),
            "matrix completion" => Compare(new MatrixCompletionCase(), 34),
            "convrfm" => Compare(new ConvRfmCase(), 35),
            _ => Compare(new DeepConvRfmCase(), 36),
        };
        Gap(mine, reference).Should().BeLessThan(DoubleTolerance, $"{estimator} in double on {Backend.Name}");
        if (single is not null)
        {
            Gap(single, singleReference!).Should().BeLessThan(SingleTolerance, $"{estimator} in single on {Backend.Name}");
        }
    }

    public void Dispose()
    {
        if (backend.IsValueCreated)
        {
            backend.Value.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private (double[] Mine, double[] Reference, double[]? Single, double[]? SingleReference) Compare<TData>(EstimatorCase<TData> c, int seed)
        where TData : notnull
    {
        using var managed = new ManagedBackend();
        var data = c.Data(seed);
        var mine = c.Predict(c.Fit(data, Backend, null, CancellationToken.None), data);
        var reference = c.Predict(c.Fit(data, managed, null, CancellationToken.None), data);
        return (mine, reference, c.PredictInSingle(data, Backend), c.PredictInSingle(data, managed));
    }

    private static double Gap(double[] a, double[] b)
    {
        a.Length.Should().Be(b.Length);
        double scale = Math.Max(b.Max(Math.Abs), 1e-300);
        return a.Zip(b, (u, v) => Math.Abs(u - v)).Max() / scale;
    }
}

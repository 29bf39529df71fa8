using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.LinearRfm;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Conformance;

/// <summary>Reports on the calling thread (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action? onReport) : IProgress<T>
{
    public void Report(T value) => onReport?.Invoke();
}

/// <summary>Inputs, targets and test inputs of a regression problem.</summary>
public sealed record MatrixProblem(Matrix<double> X, Matrix<double> Y, Matrix<double> XTest);

/// <summary>Shared pieces of the matrix-input cases.</summary>
internal static class Problems
{
    public static MatrixProblem Smooth(int seed, int n = 40, int d = 3, int c = 2)
    {
        var x = Matrix<double>.Build.DenseOfRowMajor(n, d, Random(n, d, seed));
        var y = Matrix<double>.Build.Dense(n, c, (i, j) => Math.Sin((2 * x[i, 0]) + j) + (0.5 * x[i, 1] * x[i, 1]));
        var test = Matrix<double>.Build.DenseOfRowMajor(10, d, Random(10, d, seed + 1000));
        return new MatrixProblem(x, y, test);
    }

    public static MatrixProblem Copy(MatrixProblem p) => new(p.X.Clone(), p.Y.Clone(), p.XTest.Clone());

    public static bool Same(Matrix<double> a, Matrix<double> b) => a.RowCount == b.RowCount && a.ToRowMajorArray().AsSpan().SequenceEqual(b.ToRowMajorArray());

    public static bool Same(MatrixProblem a, MatrixProblem b) => Same(a.X, b.X) && Same(a.Y, b.Y) && Same(a.XTest, b.XTest);

    public static MatrixProblem Transform(MatrixProblem p, double shift, double scale) =>
        p with { X = p.X.Map(v => scale * (v + shift)), XTest = p.XTest.Map(v => scale * (v + shift)) };

    public static Matrix<double> WithEntry(Matrix<double> m, int i, int j, double value)
    {
        var copy = m.Clone();
        copy[i, j] = value;
        return copy;
    }

    /// <summary>The learned numbers of a round history: errors and jitter, not the wall-clock seconds.</summary>
    public static IEnumerable<double> Learned(IEnumerable<RfmIteration> history) =>
        history.SelectMany(h => new[] { h.Iteration, h.TrainMse, h.TrainAccuracy, h.ValidationMse, h.ValidationAccuracy, h.Jitter });

    public static IEnumerable<double> Learned(IEnumerable<LinearRfmIteration> history) =>
        history.SelectMany(h => new[] { h.Iteration, h.TrainMse, h.HeldOutMse, h.UnobservedMse, h.RelativeWeightError, h.Ridge });

    public static IEnumerable<double> Flat(Matrix<double> m) => m.ToRowMajorArray();

    public static double[] Doubles(Matrix<float> m) => m.ToRowMajorArray().Select(v => (double)v).ToArray();

    public static byte[] Bytes(Action<Stream> save)
    {
        using var stream = new MemoryStream();
        save(stream);
        return stream.ToArray();
    }

    /// <summary>NaN, ∞, empty and mismatched inputs and targets for an estimator fitted on (x, y).</summary>
    public static IEnumerable<BadInput> MatrixInputs(MatrixProblem p, Action<Matrix<double>, Matrix<double>> fit)
    {
        yield return new("x with NaN", () => fit(WithEntry(p.X, 1, 1, double.NaN), p.Y), "x");
        yield return new("x with +∞", () => fit(WithEntry(p.X, 0, 2, double.PositiveInfinity), p.Y), "x");
        yield return new("y with −∞", () => fit(p.X, WithEntry(p.Y, 3, 0, double.NegativeInfinity)), "y");
        yield return new("y with NaN", () => fit(p.X, WithEntry(p.Y, 2, 1, double.NaN)), "y");
        yield return new("empty x", () => fit(Matrix<double>.Build.Dense(0, p.X.ColumnCount), Matrix<double>.Build.Dense(0, p.Y.ColumnCount)), "x");
        yield return new("y with one row too few", () => fit(p.X, p.Y.SubMatrix(0, p.Y.RowCount - 1, 0, p.Y.ColumnCount)), "y");
        yield return new("null x", () => fit(null!, p.Y), "x");
    }
}

/// <summary>The matrix-input estimators (kernel ridge, RFM): one problem, float and double fits, radial kernels.</summary>
public abstract class MatrixCase<TModel> : EstimatorCase<MatrixProblem>
    where TModel : class
{
    public override MatrixProblem Data(int seed) => Problems.Smooth(seed);

    public override MatrixProblem Copy(MatrixProblem data) => Problems.Copy(data);

    public override bool SameData(MatrixProblem a, MatrixProblem b) => Problems.Same(a, b);

    public override MatrixProblem? Transform(MatrixProblem data, double shift, double scale) => Problems.Transform(data, shift, scale);

    public override IEnumerable<BadInput> BadInputs(MatrixProblem valid, IComputeBackend backend) => Problems.MatrixInputs(valid, (x, y) => FitDouble(backend, x, y));

    public override double[]? PredictInSingle(MatrixProblem data, IComputeBackend backend) =>
        PredictSingle(FitSingle(backend, data.X.Map(v => (float)v), data.Y.Map(v => (float)v)), data.XTest.Map(v => (float)v)).ToRowMajorArray().Select(v => (double)v).ToArray();

    public override byte[]? Save(object model) => Problems.Bytes(stream => Save((TModel)model, stream));

    protected abstract TModel FitDouble(IComputeBackend backend, Matrix<double> x, Matrix<double> y);

    protected abstract object FitSingle(IComputeBackend backend, Matrix<float> x, Matrix<float> y);

    protected abstract Matrix<float> PredictSingle(object model, Matrix<float> x);

    protected abstract void Save(TModel model, Stream stream);
}

public sealed class KernelRidgeCase : MatrixCase<KernelRidgeModel<double>>
{
    private static KernelRidge Estimator(IComputeBackend backend, double factor = 1) =>
        new(new KernelRidgeOptions { Kernel = new LaplaceKernel(2.0 * factor), Ridge = 1e-3, Backend = backend });

    public override bool ReportsProgress => false;

    public override object Fit(MatrixProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend, bandwidthFactor).Fit(data.X, data.Y, cancellationToken);

    public override double[] Predict(object model, MatrixProblem data) => ((KernelRidgeModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[] LearnedState(object model) => [.. Problems.Flat(((KernelRidgeModel<double>)model).Coefficients), ((KernelRidgeModel<double>)model).Jitter];

    public override object Load(byte[] bytes) => KernelRidgeModel<double>.Load(new MemoryStream(bytes));

    public override IEnumerable<BadInput> BadInputs(MatrixProblem valid, IComputeBackend backend)
    {
        var model = Estimator(backend).Fit(valid.X, valid.Y);
        return base.BadInputs(valid, backend).Concat(
        [
            new("prediction inputs with a column too many", () => model.Predict(Matrix<double>.Build.Dense(2, valid.X.ColumnCount + 1)), "x"),
            new("prediction inputs with NaN", () => model.Predict(Problems.WithEntry(valid.XTest, 0, 0, double.NaN)), "x"),
        ]);
    }

    protected override KernelRidgeModel<double> FitDouble(IComputeBackend backend, Matrix<double> x, Matrix<double> y) => Estimator(backend).Fit(x, y);

    protected override object FitSingle(IComputeBackend backend, Matrix<float> x, Matrix<float> y) => Estimator(backend).Fit(x, y);

    protected override Matrix<float> PredictSingle(object model, Matrix<float> x) => ((KernelRidgeModel<float>)model).Predict(x);

    protected override void Save(KernelRidgeModel<double> model, Stream stream) => model.Save(stream);
}

public sealed class RfmCase : MatrixCase<RfmModel<double>>
{
    private static RecursiveFeatureMachine Estimator(IComputeBackend backend, double factor = 1) =>
        new(new RfmOptions { Kernel = new LaplaceKernel(2.0 * factor), Ridge = 1e-3, Rounds = 3, AgopSampleSize = 30, Seed = 11, Backend = backend });

    public override object Fit(MatrixProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend, bandwidthFactor).Fit(data.X, data.Y, null, new SyncProgress<RfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, MatrixProblem data) => ((RfmModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[] LearnedState(object model)
    {
        var m = (RfmModel<double>)model;
        return [.. Problems.Flat(m.Coefficients), .. Problems.Flat(m.FeatureMatrix), .. Problems.Learned(m.History), m.SelectedIteration];
    }

    public override object Load(byte[] bytes) => RfmModel<double>.Load(new MemoryStream(bytes));

    public override IEnumerable<BadInput> BadInputs(MatrixProblem valid, IComputeBackend backend) => base.BadInputs(valid, backend).Concat(
    [
        new("validation targets with a column too few", () => Estimator(backend).Fit(valid.X, valid.Y, (valid.XTest, Matrix<double>.Build.Dense(valid.XTest.RowCount, 1))), "validation"),
        new("validation inputs with NaN", () => Estimator(backend).Fit(valid.X, valid.Y, (Problems.WithEntry(valid.XTest, 1, 0, double.NaN), Matrix<double>.Build.Dense(valid.XTest.RowCount, valid.Y.ColumnCount))), "validation"),
    ]);

    protected override RfmModel<double> FitDouble(IComputeBackend backend, Matrix<double> x, Matrix<double> y) => Estimator(backend).Fit(x, y);

    protected override object FitSingle(IComputeBackend backend, Matrix<float> x, Matrix<float> y) => Estimator(backend).Fit(x, y);

    protected override Matrix<float> PredictSingle(object model, Matrix<float> x) => ((RfmModel<float>)model).Predict(x);

    protected override void Save(RfmModel<double> model, Stream stream) => model.Save(stream);
}

/// <summary>A planted sparse regression problem with test inputs.</summary>
public sealed record SparseProblem(Matrix<double> X, Vector<double> Y, Matrix<double> XTest);

public sealed class SparseRegressionCase : EstimatorCase<SparseProblem>
{
    private static SparseRegression Estimator(IComputeBackend backend) => new(new SparseRegressionOptions { MaxIterations = 10, Backend = backend });

    public override SparseProblem Data(int seed)
    {
        var (x, y, _) = PlantedProblems.SparseRegression(40, 60, 3, seed);
        return new SparseProblem(x, y, Matrix<double>.Build.DenseOfRowMajor(5, 60, Random(5, 60, seed + 1000)));
    }

    public override SparseProblem Copy(SparseProblem data) => new(data.X.Clone(), data.Y.Clone(), data.XTest.Clone());

    public override bool SameData(SparseProblem a, SparseProblem b) =>
        Problems.Same(a.X, b.X) && a.Y.ToArray().AsSpan().SequenceEqual(b.Y.ToArray()) && Problems.Same(a.XTest, b.XTest);

    public override object Fit(SparseProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend).Fit(data.X, data.Y, null, new SyncProgress<LinearRfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, SparseProblem data) => ((SparseRegressionModel<double>)model).Predict(data.XTest).ToArray();

    public override double[] LearnedState(object model) => [.. ((SparseRegressionModel<double>)model).Weights, .. Problems.Learned(((SparseRegressionModel<double>)model).History)];

    public override byte[]? Save(object model) => Problems.Bytes(((SparseRegressionModel<double>)model).Save);

    public override object Load(byte[] bytes) => SparseRegressionModel<double>.Load(new MemoryStream(bytes));

    public override double[]? PredictInSingle(SparseProblem data, IComputeBackend backend) =>
        Estimator(backend).Fit(data.X.Map(v => (float)v), data.Y.Map(v => (float)v)).Predict(data.XTest.Map(v => (float)v)).Select(v => (double)v).ToArray();

    public override IEnumerable<BadInput> BadInputs(SparseProblem valid, IComputeBackend backend)
    {
        var y = valid.Y;
        yield return new("x with NaN", () => Estimator(backend).Fit(Problems.WithEntry(valid.X, 2, 5, double.NaN), y), "x");
        yield return new("y with +∞", () => Estimator(backend).Fit(valid.X, Vector<double>.Build.DenseOfEnumerable(y.Select((v, i) => i == 3 ? double.PositiveInfinity : v))), "y");
        yield return new("y with one entry too few", () => Estimator(backend).Fit(valid.X, y.SubVector(0, y.Count - 1)), "y");
        yield return new("empty x", () => Estimator(backend).Fit(Matrix<double>.Build.Dense(0, 60), Vector<double>.Build.Dense(0)), "x");
        yield return new("truth of the wrong length", () => Estimator(backend).Fit(valid.X, y, Vector<double>.Build.Dense(7)), "truth");
        yield return new("null y", () => Estimator(backend).Fit(valid.X, null!), "y");
    }
}

public sealed class MatrixCompletionCase : EstimatorCase<ObservedEntries>
{
    private static MatrixCompletion Estimator(IComputeBackend backend) => new(new MatrixCompletionOptions { MaxIterations = 15, Seed = 5, Backend = backend });

    public override ObservedEntries Data(int seed) => PlantedProblems.LowRank(20, 15, 2, 200, seed).Observed;

    public override ObservedEntries Copy(ObservedEntries data) => new(data.RowCount, data.ColumnCount, data.Rows.ToArray(), data.Columns.ToArray(), data.Values.ToArray());

    public override bool SameData(ObservedEntries a, ObservedEntries b) =>
        a.Rows.SequenceEqual(b.Rows) && a.Columns.SequenceEqual(b.Columns) && a.Values.SequenceEqual(b.Values);

    public override object Fit(ObservedEntries data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend).Fit(data, null, new SyncProgress<LinearRfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, ObservedEntries data) => ((MatrixCompletionModel<double>)model).Completed.ToRowMajorArray();

    public override double[] LearnedState(object model)
    {
        var m = (MatrixCompletionModel<double>)model;
        return [.. Problems.Flat(m.Completed), .. Problems.Learned(m.History), m.SelectedIteration];
    }

    public override byte[]? Save(object model) => Problems.Bytes(((MatrixCompletionModel<double>)model).Save);

    public override object Load(byte[] bytes) => MatrixCompletionModel<double>.Load(new MemoryStream(bytes));

    public override double[]? PredictInSingle(ObservedEntries data, IComputeBackend backend) =>
        Estimator(backend).Fit<float>(data).Completed.ToRowMajorArray().Select(v => (double)v).ToArray();

    public override IEnumerable<BadInput> BadInputs(ObservedEntries valid, IComputeBackend backend)
    {
        int[] rows = valid.Rows.ToArray(), cols = valid.Columns.ToArray();
        double[] values = valid.Values.ToArray();
        yield return new("a NaN observation", () => new ObservedEntries(20, 15, rows, cols, values.Select((v, i) => i == 4 ? double.NaN : v).ToArray()), "values");
        yield return new("a row index past the end", () => new ObservedEntries(20, 15, rows.Select((r, i) => i == 0 ? 20 : r).ToArray(), cols, values), "rows");
        yield return new("a negative column index", () => new ObservedEntries(20, 15, rows, cols.Select((c, i) => i == 1 ? -1 : c).ToArray(), values), "columns");
        yield return new("lists of different lengths", () => new ObservedEntries(20, 15, rows, cols.Skip(1).ToArray(), values), "columns");
        yield return new("a truth of the wrong shape", () => Estimator(backend).Fit(valid, Matrix<double>.Build.Dense(3, 3)), "truth");
        yield return new("null observations", () => Estimator(backend).Fit(null!), "observed");
    }
}

/// <summary>Images, targets and test images.</summary>
public sealed record ImageProblem(double[] Pixels, Matrix<double> Y, double[] TestPixels)
{
    public const int Size = 6, Count = 12, TestCount = 5;

    public ImageBatch X => new(Count, 1, Size, Size, Pixels);

    public ImageBatch XTest => new(TestCount, 1, Size, Size, TestPixels);

    public static ImageProblem Create(int seed)
    {
        var pixels = Random(1, Count * Size * Size, seed);
        var y = Matrix<double>.Build.Dense(Count, 2, (i, j) => Math.Tanh(pixels[(i * Size * Size) + 7 + j] - pixels[(i * Size * Size) + 20]));
        return new ImageProblem(pixels, y, Random(1, TestCount * Size * Size, seed + 1000));
    }

    public ImageProblem Copy() => new((double[])Pixels.Clone(), Y.Clone(), (double[])TestPixels.Clone());

    public bool SameAs(ImageProblem other) => Pixels.AsSpan().SequenceEqual(other.Pixels) && Problems.Same(Y, other.Y) && TestPixels.AsSpan().SequenceEqual(other.TestPixels);

    public ImageProblem Transform(double shift, double scale) =>
        this with { Pixels = Pixels.Select(v => scale * (v + shift)).ToArray(), TestPixels = TestPixels.Select(v => scale * (v + shift)).ToArray() };

    public IEnumerable<BadInput> BadTargets(Action<ImageBatch, Matrix<double>> fit)
    {
        yield return new("targets with NaN", () => fit(X, Problems.WithEntry(Y, 0, 1, double.NaN)), "y");
        yield return new("one target row too few", () => fit(X, Y.SubMatrix(0, Count - 1, 0, 2)), "y");
        yield return new("pixels with +∞", () => fit(new ImageBatch(Count, 1, Size, Size, Pixels.Select((v, i) => i == 9 ? double.PositiveInfinity : v).ToArray()), Y), "pixels");
        yield return new("pixels of the wrong count", () => fit(new ImageBatch(Count, 1, Size, Size, Pixels.Skip(1).ToArray()), Y), "pixels");
        yield return new("null images", () => fit(null!, Y), "x");
    }
}

public sealed class ConvRfmCase : EstimatorCase<ImageProblem>
{
    // Padding 0: padded zeros would not shift with the pixels, and the shift check needs a shift-invariant kernel.
    internal static ConvRfmOptions Options(IComputeBackend backend, double factor = 1) =>
        new() { Kernel = new LaplaceKernel(3.0 * factor), PatchSize = 3, Padding = 0, Rounds = 2, Seed = 3, Backend = backend };

    public override ImageProblem Data(int seed) => ImageProblem.Create(seed);

    public override ImageProblem Copy(ImageProblem data) => data.Copy();

    public override bool SameData(ImageProblem a, ImageProblem b) => a.SameAs(b);

    public override object Fit(ImageProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        new ConvolutionalRfm(Options(backend, bandwidthFactor)).Fit(data.X, data.Y, null, new SyncProgress<RfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, ImageProblem data) => ((ConvRfmModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[]? PredictInSingle(ImageProblem data, IComputeBackend backend) =>
        Problems.Doubles(new ConvolutionalRfm(Options(backend)).Fit(data.X, data.Y.Map(v => (float)v)).Predict(data.XTest));

    public override double[] LearnedState(object model)
    {
        var m = (ConvRfmModel<double>)model;
        return [.. Problems.Flat(m.Coefficients), .. Problems.Flat(m.FeatureMatrix), .. Problems.Learned(m.History)];
    }

    public override byte[]? Save(object model) => Problems.Bytes(((ConvRfmModel<double>)model).Save);

    public override object Load(byte[] bytes) => ConvRfmModel<double>.Load(new MemoryStream(bytes));

    public override ImageProblem? Transform(ImageProblem data, double shift, double scale) => data.Transform(shift, scale);

    public override IEnumerable<BadInput> BadInputs(ImageProblem valid, IComputeBackend backend) =>
        valid.BadTargets((x, y) => new ConvolutionalRfm(Options(backend)).Fit(x, y));
}

public sealed class DeepConvRfmCase : EstimatorCase<ImageProblem>
{
    private static DeepConvRfm Estimator(IComputeBackend backend) =>
        new(new DeepConvRfmOptions { Layers = [ConvRfmCase.Options(backend) with { Rounds = 1 }, ConvRfmCase.Options(backend) with { Rounds = 1, PatchSize = 2 }], Filters = 4, Seed = 2 });

    public override ImageProblem Data(int seed) => ImageProblem.Create(seed);

    public override ImageProblem Copy(ImageProblem data) => data.Copy();

    public override bool SameData(ImageProblem a, ImageProblem b) => a.SameAs(b);

    public override object Fit(ImageProblem data, IComputeBackend backend, Action? onProgress, CancellationToken cancellationToken, double bandwidthFactor = 1) =>
        Estimator(backend).Fit(data.X, data.Y, null, new SyncProgress<DeepConvRfmIteration>(onProgress), cancellationToken);

    public override double[] Predict(object model, ImageProblem data) => ((DeepConvRfmModel<double>)model).Predict(data.XTest).ToRowMajorArray();

    public override double[]? PredictInSingle(ImageProblem data, IComputeBackend backend) =>
        Problems.Doubles(Estimator(backend).Fit(data.X, data.Y.Map(v => (float)v)).Predict(data.XTest));

    public override double[] LearnedState(object model)
    {
        var m = (DeepConvRfmModel<double>)model;
        return [.. Problems.Flat(m.Final.Coefficients), .. m.FeatureMatrices.SelectMany(Problems.Flat), .. Enumerable.Range(0, m.FeatureMatrices.Count - 1).SelectMany(l => Problems.Flat(m.Filters(l)))];
    }

    public override byte[]? Save(object model) => Problems.Bytes(((DeepConvRfmModel<double>)model).Save);

    public override object Load(byte[] bytes) => DeepConvRfmModel<double>.Load(new MemoryStream(bytes));

    public override IEnumerable<BadInput> BadInputs(ImageProblem valid, IComputeBackend backend) =>
        valid.BadTargets((x, y) => Estimator(backend).Fit(x, y));
}

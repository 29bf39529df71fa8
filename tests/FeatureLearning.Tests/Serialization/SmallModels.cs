using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.Estimators;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.LinearRfm;
using FeatureLearning.Rfm;
using FeatureLearning.Trees;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Serialization;

/// <summary>One small fitted model of a type that can be saved: its file bytes, its reader, its writer and its predictions.</summary>
/// <param name="Name">The model type.</param>
/// <param name="Bytes">The model saved with <c>Save(Stream)</c>.</param>
/// <param name="Load">The type's <c>Load(Stream)</c>.</param>
/// <param name="Save">The type's <c>Save(Stream)</c> for a model of this type.</param>
/// <param name="Predict">Predictions on fixed inputs, as doubles.</param>
public sealed record ModelCase(string Name, byte[] Bytes, Func<Stream, object> Load, Action<object, Stream> Save, Func<object, double[]> Predict)
{
    /// <summary>The expected predictions: the fitted model's.</summary>
    public required double[] Expected { get; init; }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The bytes of <paramref name="model"/> saved by its type's <c>Save(Stream)</c>.</summary>
    public byte[] Saved(object model)
    {
        using var stream = new MemoryStream();
        Save(model, stream);
        return stream.ToArray();
    }
}

/// <summary>Small fitted models of every type with <c>Save</c>/<c>Load</c>, built once.</summary>
public static class SmallModels
{
    private static readonly ManagedBackend Backend = new();
    private static readonly Lazy<IReadOnlyList<ModelCase>> Cases = new(Build);

    /// <summary>Every model type: kernel ridge, RFM and the lin-RFM models, ConvRFM and deep ConvRFM, each in double and single precision, the RFM tree and its routing, and the estimator facade's classifier (string and int labels) and regressor.</summary>
    public static IReadOnlyList<ModelCase> All => Cases.Value;

    /// <summary>The case names, for theories.</summary>
    public static TheoryData<string> Names => new(All.Select(c => c.Name));

    /// <summary>The case of that name.</summary>
    public static ModelCase Named(string name) => All.Single(c => c.Name == name);

    private static IReadOnlyList<ModelCase> Build()
    {
        var x = Matrix<double>.Build.DenseOfRowMajor(8, 3, Random(8, 3, 31));
        var y = Matrix<double>.Build.Dense(8, 2, (i, k) => (x[i, 0] * x[i, 1]) + k);
        var xf = x.Map(v => (float)v);
        var yf = y.Map(v => (float)v);
        var metric = Metric.Full(Matrix<double>.Build.DenseOfArray(new[,] { { 2, 0.5, 0 }, { 0.5, 1, 0.25 }, { 0, 0.25, 1.5 } }));

        var krr = new KernelRidge(new KernelRidgeOptions { Kernel = new LaplaceKernel(2), Metric = metric, Ridge = 0.05, Backend = Backend }).Fit(x, y);
        var krrF = new KernelRidge(new KernelRidgeOptions { Kernel = new GaussianKernel(1.5), Metric = Metric.Diagonal([1.0, 2.0, 0.5]), Backend = Backend }).Fit(xf, yf);
        var rfm = new RecursiveFeatureMachine(new RfmOptions { Rounds = 2, RecordFeatureMatrices = true, Backend = Backend }).Fit(x, y);
        var rfmF = new RecursiveFeatureMachine(new RfmOptions { Rounds = 2, Diagonal = true, Kernel = new GeneralizedLaplaceKernel(3, 1.5), Backend = Backend }).Fit(xf, yf);

        var images = new ImageBatch(4, 1, 4, 4, Random(1, 64, 32));
        var yi = Matrix<double>.Build.Dense(4, 1, (i, _) => images[i, 0, 1, 1] - images[i, 0, 2, 3]);
        var conv = new ConvolutionalRfm(new ConvRfmOptions { Rounds = 1, Backend = Backend }).Fit(images, yi);
        var deep = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Rounds = 1, Backend = Backend }, new ConvRfmOptions { Rounds = 1, PatchSize = 2, Padding = 0, Backend = Backend }],
            Filters = 2,
            Seed = 4,
        }).Fit(images, yi);
        var yif = yi.Map(v => (float)v);
        var convF = new ConvolutionalRfm(new ConvRfmOptions { Rounds = 2, Pairing = PatchPairing.Aligned, Kernel = new GaussianKernel(3), Backend = Backend }).Fit(images, yif);
        var deepF = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Rounds = 2, Backend = Backend }, new ConvRfmOptions { Rounds = 1, PatchSize = 2, Padding = 0, Backend = Backend }],
            Filters = 3,
            Seed = 5,
        }).Fit(images, yif);

        var (xs, ys, _) = PlantedProblems.SparseRegression(6, 9, 2, seed: 33);
        var sparse = new SparseRegression(new SparseRegressionOptions { MaxIterations = 3, Backend = Backend }).Fit(xs, ys);
        var sparseF = new SparseRegression(new SparseRegressionOptions { MaxIterations = 2, Backend = Backend }).Fit(xs.Map(v => (float)v), ys.Map(v => (float)v));
        var (truth, observed) = PlantedProblems.LowRank(6, 5, 1, 20, seed: 34);
        var completion = new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 3, HeldOutFraction = 0.1, Backend = Backend }).Fit(observed, truth);
        var completionF = new MatrixCompletion(new MatrixCompletionOptions { MaxIterations = 2, HeldOutFraction = 0, Backend = Backend }).Fit<float>(observed);

        var treeOptions = new RfmTreeOptions
        {
            MaxLeafSize = 3,
            SplitSampleSize = 6,
            SplitRfm = new RfmOptions { Rounds = 2, Backend = Backend },
            LeafRfm = new RfmOptions { Rounds = 2, Backend = Backend },
            Trees = 2,
            Seed = 35,
        };
        var tree = new RfmTree(treeOptions).Fit(x, y);
        var treeF = new RfmTree(treeOptions with { Trees = 1, MaxLeafSize = 4, LeafRfm = new RfmOptions { Rounds = 2, Diagonal = true, Backend = Backend } }).Fit(xf, yf);

        var facadeOptions = new FeatureMachineOptions { Rounds = 2, Backend = Backend };
        string[] names = ["low", "high", "mid"];
        var labels = Enumerable.Range(0, 8).Select(i => names[i % 3]).ToArray();
        var classifier = new FeatureMachineClassifier(facadeOptions).Fit(x, labels);
        var classifierInt = new FeatureMachineClassifier(facadeOptions with { Rounds = 1, Standardize = false }).Fit(x, Enumerable.Range(0, 8).Select(i => i % 2).ToArray());
        var regressor = new FeatureMachineRegressor(facadeOptions with { Diagonal = true }).Fit(x, y.Column(0).ToArray());

        return
        [
            Case("FittedClassifier<string>", classifier, s => FittedClassifier<string>.Load(s, Backend), (m, s) => m.Save(s), m => m.DecisionFunction(x).ToRowMajorArray()),
            Case("FittedClassifier<int>", classifierInt, s => FittedClassifier<int>.Load(s, Backend), (m, s) => m.Save(s), m => m.DecisionFunction(x).ToRowMajorArray()),
            Case("FittedRegressor", regressor, s => FittedRegressor.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(x)),
            Case("KernelRidgeModel<double>", krr, s => KernelRidgeModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(x).ToRowMajorArray()),
            Case("KernelRidgeModel<float>", krrF, s => KernelRidgeModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => Doubles(m.Predict(xf))),
            Case("RfmModel<double>", rfm, s => RfmModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(x).ToRowMajorArray()),
            Case("RfmModel<float>", rfmF, s => RfmModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => Doubles(m.Predict(xf))),
            Case("ConvRfmModel<double>", conv, s => ConvRfmModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(images).ToRowMajorArray()),
            Case("ConvRfmModel<float>", convF, s => ConvRfmModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => Doubles(m.Predict(images))),
            Case("DeepConvRfmModel<double>", deep, s => DeepConvRfmModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(images).ToRowMajorArray()),
            Case("DeepConvRfmModel<float>", deepF, s => DeepConvRfmModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => Doubles(m.Predict(images))),
            Case("SparseRegressionModel<double>", sparse, s => SparseRegressionModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(xs).ToArray()),
            Case("SparseRegressionModel<float>", sparseF, s => SparseRegressionModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(xs.Map(v => (float)v)).Select(v => (double)v).ToArray()),
            Case("MatrixCompletionModel<double>", completion, MatrixCompletionModel<double>.Load, (m, s) => m.Save(s), m => m.Completed.ToRowMajorArray()),
            Case("RfmTreeModel<double>", tree, s => RfmTreeModel<double>.Load(s, Backend), (m, s) => m.Save(s), m => m.Predict(x).ToRowMajorArray()),
            Case("RfmTreeModel<float>", treeF, s => RfmTreeModel<float>.Load(s, Backend), (m, s) => m.Save(s), m => Doubles(m.Predict(xf))),
            Case("RfmTreeRouting", tree.Routing, RfmTreeRouting.Load, (m, s) => m.Save(s), m => Routes(m.Route(x))),
            Case("MatrixCompletionModel<float>", completionF, MatrixCompletionModel<float>.Load, (m, s) => m.Save(s), m => Doubles(m.Completed)),
        ];
    }

    private static double[] Routes(int[,] leaves) => leaves.Cast<int>().Select(l => (double)l).ToArray();

    private static double[] Doubles(Matrix<float> m) => m.ToRowMajorArray().Select(v => (double)v).ToArray();

    private static ModelCase Case<TModel>(string name, TModel model, Func<Stream, TModel> load, Action<TModel, Stream> save, Func<TModel, double[]> predict)
        where TModel : class
    {
        using var stream = new MemoryStream();
        save(model, stream);
        return new ModelCase(name, stream.ToArray(), s => load(s), (m, s) => save((TModel)m, s), m => predict((TModel)m)) { Expected = predict(model) };
    }
}

/// <summary>A read-only stream that cannot seek (a pipe or a network stream), over bytes.</summary>
public sealed class NonSeekableStream(byte[] bytes) : Stream
{
    private readonly MemoryStream inner = new(bytes, writable: false);

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => inner.Read(buffer[..Math.Min(buffer.Length, 7)]);

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

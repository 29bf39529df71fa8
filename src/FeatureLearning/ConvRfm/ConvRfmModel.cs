using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.ConvRfm;

/// <summary>A fitted convolutional RFM: the aligned-patch kernel machine with the learned patch metric M. Immutable.</summary>
public sealed class ConvRfmModel
{
    private readonly PatchLayout layout;
    private readonly double[][] trainingPatches;
    private readonly double[] coefficients;
    private readonly IComputeBackend backend;

    internal ConvRfmModel(PatchLayout layout, double[][] trainingPatches, int n, double[] coefficients, int c, Metric metric, IKernelFunction kernel, IReadOnlyList<RfmIteration> history, IComputeBackend backend)
    {
        this.layout = layout;
        this.trainingPatches = trainingPatches;
        this.coefficients = coefficients;
        this.backend = backend;
        TrainingCount = n;
        OutputDimension = c;
        Metric = metric;
        Kernel = kernel;
        History = history.ToArray();
    }

    /// <summary>The base kernel on patches.</summary>
    public IKernelFunction Kernel { get; }

    /// <summary>The learned patch metric.</summary>
    public Metric Metric { get; }

    /// <summary>The learned patch metric M as a C·q² × C·q² matrix (a copy); its top eigenvectors, reshaped q × q per channel, are the learned filters.</summary>
    public Matrix<double> FeatureMatrix => Metric.ToMatrix(layout.Dimension);

    /// <summary>Number of training images.</summary>
    public int TrainingCount { get; }

    /// <summary>Number of outputs.</summary>
    public int OutputDimension { get; }

    /// <summary>One record per round.</summary>
    public IReadOnlyList<RfmIteration> History { get; }

    /// <summary>Predicts f(x) for each image.</summary>
    /// <param name="images">Images of the training shape.</param>
    /// <returns>Predictions, m × c.</returns>
    public Matrix<double> Predict(ImageBatch images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var queries = layout.Extract(images).Select(p => backend.Upload<double>(p, images.Count, layout.Dimension)).ToArray();
        var centres = trainingPatches.Select(p => backend.Upload<double>(p, TrainingCount, layout.Dimension)).ToArray();
        try
        {
            using var alpha = backend.Upload<double>(coefficients, TrainingCount, OutputDimension);
            using var metric = Metric.Upload<double>(backend);
            var f = ConvKernel.Predict(backend, Kernel, queries, centres, metric, alpha, images.Count, OutputDimension);
            return Matrix<double>.Build.DenseOfRowMajor(images.Count, OutputDimension, f);
        }
        finally
        {
            foreach (var b in queries.Concat(centres))
            {
                b.Dispose();
            }
        }
    }

    /// <summary>Predicts the class (arg max of the outputs) of each image.</summary>
    /// <param name="images">Images.</param>
    /// <returns>Class indices.</returns>
    public int[] PredictClass(ImageBatch images) => Data.OneHot.ArgMax(Predict(images));
}

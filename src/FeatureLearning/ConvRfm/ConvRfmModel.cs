using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.ConvRfm;

/// <summary>A fitted convolutional RFM: the convolutional kernel machine with the learned patch metric M. Immutable.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision it was fitted in, predicts in and is saved in.</typeparam>
public sealed class ConvRfmModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PatchLayout layout;
    private readonly ImageBatch trainingImages;
    private readonly Lazy<PatchSet<T>> trainingPatches;
    private readonly T[] coefficients;
    private readonly long maxBlockElements;
    private readonly IComputeBackend? backend;

    internal ConvRfmModel(
        PatchLayout layout, PatchPairing pairing, IKernelFunction kernel, long maxBlockElements, ImageBatch trainingImages, PatchSet<T>? trainingPatches,
        T[] coefficients, int c, Metric metric, IReadOnlyList<RfmIteration> history, int? selectedIteration, IComputeBackend? backend)
    {
        this.layout = layout;
        this.trainingImages = trainingImages;
        this.trainingPatches = trainingPatches is null ? new(() => layout.Set<T>(trainingImages)) : new(trainingPatches);
        this.coefficients = coefficients;
        this.maxBlockElements = maxBlockElements;
        this.backend = backend;
        Pairing = pairing;
        Kernel = kernel;
        OutputDimension = c;
        Metric = metric;
        History = history.ToArray();
        SelectedIteration = selectedIteration;
    }

    /// <summary>The base kernel on patches.</summary>
    public IKernelFunction Kernel { get; }

    /// <summary>Which patch pairs the kernel compares.</summary>
    public PatchPairing Pairing { get; }

    /// <summary>The learned patch metric.</summary>
    public Metric Metric { get; }

    /// <summary>The learned patch metric M as a C·q² × C·q² matrix (a copy); its top eigenvectors, reshaped q × q per channel, are the learned filters.</summary>
    public Matrix<double> FeatureMatrix => Metric.ToMatrix(layout.Dimension);

    /// <summary>The patch size q.</summary>
    public int PatchSize => layout.PatchSize;

    /// <summary>The channels C of the images the model takes.</summary>
    public int Channels => layout.Channels;

    /// <summary>How the model cuts images into patches, and the image shape it takes.</summary>
    internal PatchLayout Layout => layout;

    /// <summary>Number of training images.</summary>
    public int TrainingCount => trainingImages.Count;

    /// <summary>Number of outputs.</summary>
    public int OutputDimension { get; }

    /// <summary>One record per round.</summary>
    public IReadOnlyList<RfmIteration> History { get; }

    /// <summary>
    /// The round whose metric and coefficients the model holds: the best on the validation set by
    /// <see cref="ConvRfmOptions.SelectBy"/> when one was given, otherwise the last. Null only for a model loaded from a file
    /// of the older <c>CRF1</c>/<c>DCR1</c> payload, which did not record it.
    /// </summary>
    public int? SelectedIteration { get; }

    /// <summary>The backend that fitted the model or was given when loading it (null: the process default).</summary>
    internal IComputeBackend? Backend => backend;

    /// <summary>The coefficients α (n × c, a copy).</summary>
    public Matrix<T> Coefficients => Matrix<T>.Build.DenseOfRowMajor(TrainingCount, OutputDimension, coefficients);

    /// <summary>Predicts f(x) for each image, in <typeparamref name="T"/> (the images' patches converted once).</summary>
    /// <param name="images">Images of the training shape.</param>
    /// <param name="computeBackend">Backend to compute on; null for the one that fitted the model (or the default after loading).</param>
    /// <returns>Predictions, m × c.</returns>
    /// <exception cref="ArgumentException">The images have another shape than the training images.</exception>
    public Matrix<T> Predict(ImageBatch images, IComputeBackend? computeBackend = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var be = computeBackend ?? backend ?? ComputeBackends.Default;
        var convKernel = new ConvKernel<T>(be, Kernel, Pairing, maxBlockElements);
        using var queries = convKernel.Upload(layout.Set<T>(images));
        using var centres = convKernel.Upload(trainingPatches.Value);
        using var alpha = be.Upload<T>(coefficients, TrainingCount, OutputDimension);
        using var metric = Metric.Upload<T>(be);
        var f = convKernel.Predict(queries, centres, metric, alpha);
        return Matrix<T>.Build.DenseOfRowMajor(images.Count, OutputDimension, f);
    }

    /// <summary>Predicts the class (arg max of the outputs) of each image.</summary>
    /// <param name="images">Images.</param>
    /// <param name="computeBackend">Optional backend, as in <see cref="Predict"/>.</param>
    /// <returns>Class indices.</returns>
    public int[] PredictClass(ImageBatch images, IComputeBackend? computeBackend = null) => Data.OneHot.ArgMax(Predict(images, computeBackend));

    /// <summary>
    /// The top eigenvectors of M, each reshaped as C × q × q (row-major: channel, row, column): the patch directions the
    /// model is most sensitive to, which play the part of a CNN's first-layer filters.
    /// </summary>
    /// <param name="count">How many (at most C·q²).</param>
    /// <returns>(eigenvalue, filter) pairs by decreasing eigenvalue.</returns>
    public IReadOnlyList<(double Eigenvalue, double[] Filter)> TopFilters(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var evd = FeatureMatrix.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        int d = layout.Dimension;
        return Enumerable.Range(0, d)
            .OrderByDescending(i => evd.EigenValues[i].Real)
            .Take(Math.Min(count, d))
            .Select(i => (evd.EigenValues[i].Real, evd.EigenVectors.Column(i).ToArray()))
            .ToArray();
    }

    /// <summary>
    /// Saves the model (format in <c>docs/file-format.md</c>, tag <c>CRF2</c>) atomically: a temporary file in the same
    /// directory, flushed to disk and renamed over <paramref name="path"/>; a failed save leaves an existing file untouched.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.ConvRfmTag, PrecisionExtensions.Of<T>(), WritePayload);

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a ConvRFM model file of this precision, or a malformed one (the message says what is wrong).</exception>
    public static ConvRfmModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not a ConvRFM model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static ConvRfmModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.ConvRfmTag, PrecisionExtensions.Of<T>(), r => ReadPayload(r, computeBackend), ModelFile.ConvRfmTagV1);

    /// <inheritdoc />
    public override string ToString() =>
        $"ConvRfmModel<{typeof(T).Name}>: {Kernel.Name} on {layout.PatchSize}x{layout.PatchSize} patches ({Pairing}, stride {layout.Stride}), {Metric}, n={TrainingCount}, outputs={OutputDimension}, {History.Count} rounds{(SelectedIteration is { } t ? $", selected round {t}" : "")}";

    /// <summary>The fields after the header (shared with <see cref="DeepConvRfmModel{T}"/>); the training images and coefficients in <typeparamref name="T"/>.</summary>
    internal void WritePayload(BinaryWriter w)
    {
        ModelFile.WriteKernel(w, Kernel);
        ModelFile.WriteMetric(w, Metric);
        w.Write((byte)Pairing);
        ModelFile.WriteLayout(w, layout);
        w.Write(TrainingCount);
        w.Write(OutputDimension);

        w.Write(maxBlockElements);
        ModelFile.WriteArray(w, PatchSet<T>.Convert(trainingImages.Pixels.ToArray()));
        ModelFile.WriteArray(w, coefficients);
        ModelFile.WriteHistory(w, History);
        w.Write(SelectedIteration ?? -1);
    }

    internal static ConvRfmModel<T> ReadPayload(ModelReader r, IComputeBackend? computeBackend)
    {
        var kernel = ModelFile.ReadKernel(r);
        long metricAt = r.Position;
        var metric = ModelFile.ReadMetric(r);
        long pairingAt = r.Position;
        var pairing = (PatchPairing)r.ReadByte("patch pairing");
        if (!Enum.IsDefined(pairing))
        {
            throw ModelReader.Corrupt($"unknown patch pairing {(int)pairing} at byte {pairingAt}.");
        }

        var layout = ModelFile.ReadLayout(r, "patch layout");
        ModelFile.RequireDimension(metric, layout.Dimension, metricAt);
        int n = r.ReadInt32("training image count n", 1), c = r.ReadInt32("output count c", 1);
        long blockElements = r.ReadInt64("block budget");
        if (blockElements < 1)
        {
            throw ModelReader.Corrupt($"the block budget is {blockElements}; it must be at least 1.");
        }

        var pixels = r.ReadArray<T>("training images", n, layout.Channels, layout.Height, layout.Width);

        var images = new ImageBatch(n, layout.Channels, layout.Height, layout.Width, Array.ConvertAll(pixels, double.CreateTruncating));
        var alpha = r.ReadArray<T>("coefficients", n, c);
        var history = ModelFile.ReadHistory(r);
        int? selected = null;
        if (r.Tag is not (ModelFile.ConvRfmTagV1 or ModelFile.DeepConvRfmTagV1))
        {
            long at = r.Position;
            int stored = r.ReadInt32("selected round", -1);
            if (stored >= history.Count)
            {
                throw ModelReader.Corrupt($"the selected round at byte {at} is {stored}, but the history has {history.Count} rounds.");
            }

            selected = stored < 0 ? null : stored;
        }

        return new ConvRfmModel<T>(layout, pairing, kernel, blockElements, images, null, alpha, c, metric, history, selected, computeBackend);
    }
}

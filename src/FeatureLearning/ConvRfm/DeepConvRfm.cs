using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.ConvRfm;

/// <summary>Options of <see cref="DeepConvRfm"/>.</summary>
public sealed record DeepConvRfmOptions
{
    /// <summary>The ConvRFM options of each layer, first to last (at least one); layer l's patches are cut from layer l − 1's feature maps.</summary>
    public IReadOnlyList<ConvRfmOptions> Layers { get; init; } = [new ConvRfmOptions(), new ConvRfmOptions()];

    /// <summary>The number k of filters sampled after every layer but the last: the channels of the next layer's input.</summary>
    public int Filters { get; init; } = 16;

    /// <summary>Seed of the sampled filters.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the options, throwing <see cref="ArgumentException"/> naming a bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Layers is null || Layers.Count == 0)
        {
            throw new ArgumentException("At least one layer is required.", nameof(Layers));
        }

        foreach (var layer in Layers)
        {
            ArgumentNullException.ThrowIfNull(layer, nameof(Layers));
            layer.Validate();
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Filters, 1, nameof(Filters));
    }
}

/// <summary>One round of one layer of a <see cref="DeepConvRfm"/> fit.</summary>
/// <param name="Layer">The layer (0-based).</param>
/// <param name="Round">The round's record.</param>
public readonly record struct DeepConvRfmIteration(int Layer, RfmIteration Round);

/// <summary>
/// The deep, layer-wise ConvRFM (Radhakrishnan et al., "Mechanism of feature learning in convolutional neural networks"):
/// fit a ConvRFM on the images; sample k filters W = Z·M^{1/2} from its patch metric M (Z with i.i.d. N(0, 1) entries);
/// convolve and apply ReLU, h_f = √(2/k)·max(0, w_fᵀx_p) at every patch position p, so that Σ_f h_f² ≈ x_pᵀMx_p; fit the next
/// layer's ConvRFM on these k-channel feature maps; and so on. The last layer's kernel machine makes the predictions.
/// </summary>
public sealed class DeepConvRfm
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Options; validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public DeepConvRfm(DeepConvRfmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public DeepConvRfmOptions Options { get; }

    /// <summary>Fits the layers one after the other.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of every layer's fit and of the
    /// filter responses. The feature maps passed between layers are <see cref="ImageBatch"/> (double) holding
    /// <typeparamref name="T"/> values, so the next layer's conversion is exact.</typeparam>
    /// <param name="x">Training images.</param>
    /// <param name="y">Targets, n × c.</param>
    /// <param name="validation">Optional validation images and targets, passed through the same filters; their errors are recorded per round,
    /// and every layer returns its round with the best validation metric (<see cref="ConvRfmOptions.SelectBy"/>).</param>
    /// <param name="progress">One report per round of every layer.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The fitted model.</returns>
    /// <exception cref="ArgumentException">Mismatched shapes or a layer whose patches do not fit its input (checked for every layer before the first is fitted).</exception>
    /// <exception cref="InsufficientMemoryException">
    /// The estimated memory of a layer (its ConvRFM fit and the feature maps it passes on) exceeds that layer's
    /// <see cref="ConvRfmOptions.MemoryBudgetBytes"/>; checked for every layer before the first is fitted.
    /// </exception>
    public DeepConvRfmModel<T> Fit<T>(ImageBatch x, Matrix<T> y, (ImageBatch X, Matrix<T> Y)? validation = null, IProgress<DeepConvRfmIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        PrecisionExtensions.Of<T>();
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckLayers<T>(x, y.ColumnCount, validation?.X?.Count ?? 0);
        var rng = new Random(Options.Seed);
        var banks = new List<FilterBank<T>>();
        var metrics = new List<Matrix<double>>();
        var history = new List<DeepConvRfmIteration>();
        ImageBatch input = x;
        var valInput = validation?.X;
        ConvRfmModel<T>? model = null;
        for (int l = 0; l < Options.Layers.Count; l++)
        {
            int layer = l;
            var layerProgress = new Relay(r =>
            {
                history.Add(new DeepConvRfmIteration(layer, r));
                progress?.Report(new DeepConvRfmIteration(layer, r));
            });
            model = new ConvolutionalRfm(Options.Layers[l]).Fit(input, y, valInput is null ? null : (valInput, validation!.Value.Y), layerProgress, cancellationToken);
            metrics.Add(model.FeatureMatrix);
            if (l == Options.Layers.Count - 1)
            {
                break;
            }

            var be = Options.Layers[l].Backend ?? ComputeBackends.Default;
            var bank = FilterBank<T>.Sample(be, PatchLayout.For(Options.Layers[l], input), model.FeatureMatrix, Options.Filters, rng);
            banks.Add(bank);
            input = bank.Apply(be, input);
            valInput = valInput is null ? null : bank.Apply(be, valInput);
        }

        return new DeepConvRfmModel<T>(banks, model!, metrics, history);
    }

    /// <summary>Every layer's patch layout on the shape its input will have, and its memory estimate against its budget.</summary>
    private void CheckLayers<T>(ImageBatch x, int outputs, int validationCount)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = x.Channels, height = x.Height, width = x.Width;
        for (int l = 0; l < Options.Layers.Count; l++)
        {
            var layer = Options.Layers[l];
            var layout = PatchLayout.For(layer, channels, height, width);
            double maps = l == Options.Layers.Count - 1 ? 0 : 8.0 * (x.Count + validationCount) * Options.Filters * layout.OutputHeight * layout.OutputWidth;
            ConvRfmMemory.Check(
                ConvRfmMemory.FitBytes<T>(layout, layer, x.Count, outputs, validationCount) + maps,
                layer,
                $"Deep ConvRFM layer {l} on {x.Count} images of {channels} x {height} x {width} ({layout.OutputHeight} x {layout.OutputWidth} patch positions)");
            (channels, height, width) = (Options.Filters, layout.OutputHeight, layout.OutputWidth);
        }
    }

    private sealed class Relay(Action<RfmIteration> report) : IProgress<RfmIteration>
    {
        public void Report(RfmIteration value) => report(value);
    }
}

/// <summary>The sampled filters of one layer (in <typeparamref name="T"/>) and the patch layout they apply to.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal sealed class FilterBank<T>(PatchLayout layout, T[] weights, int filters)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public PatchLayout Layout => layout;

    /// <summary>k × d filters, row-major.</summary>
    public T[] Weights => weights;

    public int Filters => filters;

    /// <summary>W = Z·M^{1/2} with Z's entries i.i.d. N(0, 1); M^{1/2} from the eigendecomposition, negative eigenvalues (rounding) taken as 0.</summary>
    public static FilterBank<T> Sample(IComputeBackend be, PatchLayout layout, Matrix<double> m, int filters, Random rng)
    {
        int d = layout.Dimension;
        var normal = new MathNet.Numerics.Distributions.Normal(0, 1, rng);
        var z = new double[filters * d];
        for (int j = 0; j < d; j++)
        {
            // Column by column, the order the filters were always drawn in (a seed keeps giving the same filters).
            for (int i = 0; i < filters; i++)
            {
                z[(i * d) + j] = normal.Sample();
            }
        }
        using var root = be.Upload<T>(PatchSet<T>.Convert(m.ToRowMajorArray()), d, d);
        MetricUpdate.PowerInPlace(be, root, 0.5);
        using var zb = be.Upload<T>(PatchSet<T>.Convert(z), filters, d);
        using var w = be.Allocate<T>(filters, d);
        be.Gemm(Transpose.None, Transpose.None, T.One, zb, root, T.Zero, w);
        var weights = new T[filters * d];
        be.Download(w, weights);
        return new FilterBank<T>(layout, weights, filters);
    }

    /// <summary>
    /// The k-channel feature maps h_f(p) = √(2/k)·max(0, w_fᵀx_p) over the grid of patch positions: the responses of all
    /// n·P patches (im2col, position-major) to the k filters are one GEMM, patches × Wᵀ.
    /// </summary>
    public ImageBatch Apply(IComputeBackend be, ImageBatch images)
    {
        var patches = layout.Extract(images);
        int n = images.Count, d = layout.Dimension, k = filters, outH = layout.OutputHeight, outW = layout.OutputWidth, positions = outH * outW;
        int rows = checked(positions * n);
        var stacked = new T[(long)rows * d];
        for (int p = 0; p < positions; p++)
        {
            PatchSet<T>.Convert(patches[p]).CopyTo(stacked, (long)p * n * d);
        }

        using var x = be.Upload<T>(stacked, rows, d);
        using var w = be.Upload<T>(weights, k, d);
        using var r = be.Allocate<T>(rows, k);
        be.Gemm(Transpose.None, Transpose.Transpose, T.One, x, w, T.Zero, r);
        var responses = new T[(long)rows * k];
        be.Download(r, responses);

        T scale = T.CreateTruncating(Math.Sqrt(2.0 / k));
        var pixels = new double[(long)n * k * positions];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < n; i++)
            {
                long row = ((long)p * n) + i;
                for (int f = 0; f < k; f++)
                {
                    pixels[(((long)i * k) + f) * positions + p] = double.CreateTruncating(scale * T.Max(T.Zero, responses[(row * k) + f]));
                }
            }
        }

        return new ImageBatch(n, k, outH, outW, pixels);
    }
}

/// <summary>A fitted deep ConvRFM: the filters of every layer but the last, and the last layer's ConvRFM. Immutable.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision it was fitted in, predicts in and is saved in.</typeparam>
public sealed class DeepConvRfmModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly FilterBank<T>[] banks;
    private readonly Matrix<double>[] featureMatrices;

    internal DeepConvRfmModel(IEnumerable<FilterBank<T>> banks, ConvRfmModel<T> final, IReadOnlyList<Matrix<double>> featureMatrices, IReadOnlyList<DeepConvRfmIteration> history)
    {
        this.banks = banks.ToArray();
        Final = final;
        this.featureMatrices = featureMatrices.Select(m => m.Clone()).ToArray();
        History = history.ToArray();
    }

    /// <summary>The last layer's ConvRFM (on the feature maps of the layers before it).</summary>
    public ConvRfmModel<T> Final { get; }

    /// <summary>The learned patch metric of every layer, first to last. Copies: every read returns new matrices, so changing them changes neither the model nor a later read.</summary>
    public IReadOnlyList<Matrix<double>> FeatureMatrices => featureMatrices.Select(m => m.Clone()).ToArray();

    /// <summary>Every round of every layer.</summary>
    public IReadOnlyList<DeepConvRfmIteration> History { get; }

    /// <summary>The sampled filters after layer <paramref name="layer"/> (k × C·q², row-major rows).</summary>
    /// <param name="layer">A layer before the last.</param>
    /// <returns>The filters as a matrix (a copy).</returns>
    public Matrix<T> Filters(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, banks.Length);
        return Matrix<T>.Build.DenseOfRowMajor(banks[layer].Filters, banks[layer].Layout.Dimension, banks[layer].Weights);
    }

    /// <summary>The images passed through the sampled filters of every layer but the last: the last layer's input.</summary>
    /// <param name="images">Images of the training shape.</param>
    /// <param name="computeBackend">Backend for the filter responses; null for the one that fitted the last layer (or the default after loading).</param>
    /// <returns>The feature maps, computed in <typeparamref name="T"/> and held in a (double) <see cref="ImageBatch"/>, which represents them exactly.</returns>
    public ImageBatch Features(ImageBatch images, IComputeBackend? computeBackend = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var be = computeBackend ?? Final.Backend ?? ComputeBackends.Default;
        return banks.Aggregate(images, (current, bank) => bank.Apply(be, current));
    }

    /// <summary>Predicts f(x) for each image.</summary>
    /// <param name="images">Images of the training shape.</param>
    /// <param name="computeBackend">Optional backend.</param>
    /// <returns>Predictions, m × c.</returns>
    public Matrix<T> Predict(ImageBatch images, IComputeBackend? computeBackend = null) => Final.Predict(Features(images, computeBackend), computeBackend);

    /// <summary>Predicts the class of each image.</summary>
    /// <param name="images">Images.</param>
    /// <param name="computeBackend">Optional backend.</param>
    /// <returns>Class indices.</returns>
    public int[] PredictClass(ImageBatch images, IComputeBackend? computeBackend = null) => Data.OneHot.ArgMax(Predict(images, computeBackend));

    /// <summary>
    /// Saves the model (format in <c>docs/file-format.md</c>, tag <c>DCR2</c>) atomically: a temporary file in the same
    /// directory, flushed to disk and renamed over <paramref name="path"/>; a failed save leaves an existing file untouched.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">A kernel is a user-defined type the format does not know.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">A kernel is a user-defined type the format does not know.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.DeepConvRfmTag, PrecisionExtensions.Of<T>(), w =>
    {
        w.Write(banks.Length);
        foreach (var bank in banks)
        {
            ModelFile.WriteLayout(w, bank.Layout);
            w.Write(bank.Filters);
            ModelFile.WriteArray(w, bank.Weights);
        }

        ModelFile.WriteSquareMatrices(w, FeatureMatrices);
        w.Write(History.Count);
        foreach (var h in History)
        {
            w.Write(h.Layer);
        }

        ModelFile.WriteHistory(w, History.Select(h => h.Round).ToArray());
        Final.WritePayload(w);
    });

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a deep ConvRFM model file of this precision, or a malformed one (the message says what is wrong).</exception>
    public static DeepConvRfmModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not a deep ConvRFM model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static DeepConvRfmModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.DeepConvRfmTag, PrecisionExtensions.Of<T>(), r => ReadPayload(r, computeBackend), ModelFile.DeepConvRfmTagV1);

    private static DeepConvRfmModel<T> ReadPayload(ModelReader r, IComputeBackend? computeBackend)
    {
        // A bank takes at least 32 bytes of fields and one filter of C·q² ≥ 1 values.
        int count = r.ReadCount("filter banks", (8 * sizeof(int)) + System.Runtime.InteropServices.Marshal.SizeOf<T>());
        var banks = new List<FilterBank<T>>(count);
        for (int b = 0; b < count; b++)
        {
            long at = r.Position;
            var layout = ModelFile.ReadLayout(r, $"filter bank {b} layout");
            int k = r.ReadInt32($"filter bank {b} filter count", 1);
            RequireInput(layout, banks, at);
            banks.Add(new FilterBank<T>(layout, r.ReadArray<T>($"filter bank {b} weights", k, layout.Dimension), k));
        }

        var metrics = ModelFile.ReadSquareMatrices(r, "feature matrices");
        int rounds = r.ReadCount("history layer indices", sizeof(int));
        var layers = new int[rounds];
        for (int i = 0; i < rounds; i++)
        {
            layers[i] = r.ReadInt32("history layer index", 0);
        }

        long historyAt = r.Position;
        var history = ModelFile.ReadHistory(r);
        if (history.Count != layers.Length)
        {
            throw ModelReader.Corrupt($"the history at byte {historyAt} has {history.Count} rounds but {layers.Length} layer indices.");
        }

        long finalAt = r.Position;
        var final = ConvRfmModel<T>.ReadPayload(r, computeBackend);
        RequireInput(final.Layout, banks, finalAt);
        return new DeepConvRfmModel<T>(banks, final, metrics, layers.Zip(history, (l, h) => new DeepConvRfmIteration(l, h)).ToArray());
    }

    /// <summary>Throws unless the layer stored at byte <paramref name="at"/> takes the feature maps of the last bank as its input.</summary>
    private static void RequireInput(PatchLayout layout, List<FilterBank<T>> banks, long at)
    {
        if (banks.Count == 0)
        {
            return;
        }

        var previous = banks[^1];
        var l = previous.Layout;
        if (layout.Channels != previous.Filters || layout.Height != l.OutputHeight || layout.Width != l.OutputWidth)
        {
            throw ModelReader.Corrupt(
                $"the layer at byte {at} takes {layout.Channels} x {layout.Height} x {layout.Width} inputs, but the layer before it makes {previous.Filters} x {l.OutputHeight} x {l.OutputWidth} feature maps.");
        }
    }
}

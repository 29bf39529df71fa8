using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Rfm;

/// <summary>
/// A fitted Recursive Feature Machine: the kernel machine of the selected round (its metric M is the learned
/// feature matrix), and the per-round history. Immutable.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class RfmModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Matrix<double>[] featureMatrixHistory;

    internal RfmModel(KernelRidgeModel<T> predictor, IReadOnlyList<RfmIteration> history, IReadOnlyList<Matrix<double>> featureMatrices, int selectedIteration)
    {
        Predictor = predictor;
        History = history.ToArray();
        featureMatrixHistory = featureMatrices.Select(m => m.Clone()).ToArray();
        SelectedIteration = selectedIteration;
    }

    /// <summary>The kernel machine of the selected round (kernel, metric M, coefficients).</summary>
    public KernelRidgeModel<T> Predictor { get; }

    /// <summary>The kernel profile.</summary>
    public IKernelFunction Kernel => Predictor.Kernel;

    /// <summary>The learned metric of the selected round.</summary>
    public Metric Metric => Predictor.Metric;

    /// <summary>The learned feature matrix M (d × d; diagonal for a diagonal RFM), a copy.</summary>
    public Matrix<double> FeatureMatrix => Predictor.Metric.ToMatrix(Predictor.InputDimension);

    /// <summary>The coefficients α of the selected round (n × c), a copy.</summary>
    public Matrix<T> Coefficients => Predictor.Coefficients;

    /// <summary>One record per round.</summary>
    public IReadOnlyList<RfmIteration> History { get; }

    /// <summary>
    /// M_t of every round when <see cref="RfmOptions.RecordFeatureMatrices"/> was set; empty otherwise. Copies: every read
    /// returns new matrices, so changing them changes neither the model nor a later read.
    /// </summary>
    public IReadOnlyList<Matrix<double>> FeatureMatrixHistory => featureMatrixHistory.Select(m => m.Clone()).ToArray();

    /// <summary>The round whose predictor this model is (the best validation round, or the last).</summary>
    public int SelectedIteration { get; }

    /// <summary>Predicts f(x) for each row.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Optional backend (default: the one used to fit, or the process default after loading).</param>
    /// <returns>Predictions, m × c.</returns>
    public Matrix<T> Predict(Matrix<T> x, IComputeBackend? computeBackend = null) => Predictor.Predict(x, computeBackend);

    /// <summary>Predicts the class (arg max of the outputs) of each row.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Optional backend.</param>
    /// <returns>Class indices.</returns>
    public int[] PredictClass(Matrix<T> x, IComputeBackend? computeBackend = null) => Predictor.PredictClass(x, computeBackend);

    /// <summary>Saves the model (format in <c>docs/file-format.md</c>, tag <c>RFM1</c>).</summary>
    /// <param name="path">File path.</param>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        ModelFile.WriteHeader(w, ModelFile.RfmTag, PrecisionExtensions.Of<T>());
        Predictor.WritePayload(w);
        w.Write(SelectedIteration);
        ModelFile.WriteHistory(w, History);

        w.Write(FeatureMatrixHistory.Count);
        foreach (var m in FeatureMatrixHistory)
        {
            w.Write(m.RowCount);
            ModelFile.WriteArray(w, m.ToRowMajorArray());
        }
    }

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not an RFM model file, another version or precision.</exception>
    public static RfmModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not an RFM model file, another version or precision.</exception>
    public static RfmModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        ModelFile.ReadHeader(r, ModelFile.RfmTag, PrecisionExtensions.Of<T>());
        var predictor = KernelRidgeModel<T>.ReadPayload(r, computeBackend);
        int selected = r.ReadInt32();
        var history = ModelFile.ReadHistory(r);

        int matrices = r.ReadInt32();
        var featureMatrices = new List<Matrix<double>>();
        for (int i = 0; i < matrices; i++)
        {
            int d = r.ReadInt32();
            featureMatrices.Add(Matrix<double>.Build.DenseOfRowMajor(d, d, ModelFile.ReadArray<double>(r, (long)d * d)));
        }

        return new RfmModel<T>(predictor, history, featureMatrices, selected);
    }

    /// <inheritdoc />
    public override string ToString() => $"RfmModel<{typeof(T).Name}>: {History.Count} rounds, selected round {SelectedIteration}; {Predictor}";
}

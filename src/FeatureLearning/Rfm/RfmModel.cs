using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Serialization;
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

    /// <summary>
    /// The round whose predictor this model is (the best validation round, or the last), counted from 0 like
    /// <see cref="RfmIteration.Iteration"/>: <c>History[SelectedIteration]</c> is its record.
    /// </summary>
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

    /// <summary>
    /// Saves the model (format in <c>docs/file-format.md</c>, tag <c>RFM1</c>) atomically: a temporary file in the same
    /// directory, flushed to disk and renamed over <paramref name="path"/>; a failed save leaves an existing file untouched.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.RfmTag, PrecisionExtensions.Of<T>(), WritePayload);

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not an RFM model file of this precision, or a malformed one (the message says what is wrong).</exception>
    public static RfmModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not an RFM model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static RfmModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.RfmTag, PrecisionExtensions.Of<T>(), r => ReadPayload(r, computeBackend));

    /// <summary>Writes the fields after the header (shared with the models that contain an RFM).</summary>
    internal void WritePayload(BinaryWriter w)
    {
        Predictor.WritePayload(w);
        w.Write(SelectedIteration);
        ModelFile.WriteHistory(w, History);
        ModelFile.WriteSquareMatrices(w, FeatureMatrixHistory);
    }

    /// <summary>Reads the fields written by <see cref="WritePayload"/>.</summary>
    internal static RfmModel<T> ReadPayload(ModelReader r, IComputeBackend? computeBackend)
    {
        var predictor = KernelRidgeModel<T>.ReadPayload(r, computeBackend);
        int selected = r.ReadInt32("selected round");
        var history = ModelFile.ReadHistory(r);
        var featureMatrices = ModelFile.ReadSquareMatrices(r, "feature matrices");
        return new RfmModel<T>(predictor, history, featureMatrices, selected);
    }

    /// <inheritdoc />
    public override string ToString() => $"RfmModel<{typeof(T).Name}>: {History.Count} rounds, selected round {SelectedIteration}; {Predictor}";
}

using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.LinearRfm;

/// <summary>A fitted sparse linear model f(x) = wᵀx: immutable; its weights are a copy.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the fit and of the predictions.</typeparam>
public sealed class SparseRegressionModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] weights;
    private readonly IComputeBackend? backend;

    internal SparseRegressionModel(T[] weights, IReadOnlyList<LinearRfmIteration> history, IComputeBackend? backend)
    {
        this.weights = weights;
        History = history.ToArray();
        this.backend = backend;
    }

    /// <summary>The weights w (a copy).</summary>
    public MathNet.Numerics.LinearAlgebra.Vector<T> Weights => MathNet.Numerics.LinearAlgebra.Vector<T>.Build.DenseOfArray((T[])weights.Clone());

    /// <summary>Input dimension d (the number of weights).</summary>
    public int InputDimension => weights.Length;

    /// <summary>One record per iteration; <see cref="LinearRfmIteration.RelativeWeightError"/> is set when <c>Fit</c> was given the true w.</summary>
    public IReadOnlyList<LinearRfmIteration> History { get; }

    /// <summary>Predicts Xw on the backend.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Backend to compute on; null for the one that fitted the model (or the default after <c>Load</c>).</param>
    /// <returns>Predictions, length m.</returns>
    /// <exception cref="ArgumentException">x has another number of columns than the model has weights.</exception>
    public MathNet.Numerics.LinearAlgebra.Vector<T> Predict(Matrix<T> x, IComputeBackend? computeBackend = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.ColumnCount != weights.Length)
        {
            throw new ArgumentException($"The model has {weights.Length} weights but x has {x.ColumnCount} columns.", nameof(x));
        }

        var output = new T[x.RowCount];
        if (x.RowCount > 0)
        {
            var be = computeBackend ?? backend ?? ComputeBackends.Default;
            using var xb = be.Upload<T>(x.ToRowMajorArray(), x.RowCount, x.ColumnCount);
            using var wb = be.Upload<T>(weights, weights.Length, 1);
            using var f = be.Allocate<T>(x.RowCount, 1);
            be.Gemm(Transpose.None, Transpose.None, T.One, xb, wb, T.Zero, f);
            be.Download(f, output);
        }

        return MathNet.Numerics.LinearAlgebra.Vector<T>.Build.DenseOfArray(output);
    }

    /// <summary>
    /// Saves the model in the versioned binary format of <c>docs/file-format.md</c> (tag <c>LSR1</c>), atomically: written to a
    /// temporary file in the same directory, flushed and renamed over <paramref name="path"/>.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream in the versioned binary format.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.SparseRegressionTag, PrecisionExtensions.Of<T>(), w =>
    {
        w.Write(weights.Length);
        ModelFile.WriteArray(w, weights);
        LinearRfmFile.WriteHistory(w, History);
    });

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a sparse regression model file of this precision, or a malformed one.</exception>
    public static SparseRegressionModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not a sparse regression model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static SparseRegressionModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.SparseRegressionTag, PrecisionExtensions.Of<T>(), r =>
        {
            int d = r.ReadInt32("weight count d", 1);
            var w = r.ReadArray<T>("weights", d);
            return new SparseRegressionModel<T>(w, LinearRfmFile.ReadHistory(r), computeBackend);
        });

    /// <inheritdoc />
    public override string ToString() => $"SparseRegressionModel<{typeof(T).Name}>: d={weights.Length}, {History.Count} iterations";
}

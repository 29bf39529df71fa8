using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.LinearRfm;

/// <summary>A completed matrix and the history of the iterations: immutable; the matrix is a copy.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the fit.</typeparam>
public sealed class MatrixCompletionModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] completed;

    internal MatrixCompletionModel(int rows, int columns, T[] completed, IReadOnlyList<LinearRfmIteration> history, int selectedIteration)
    {
        RowCount = rows;
        ColumnCount = columns;
        this.completed = completed;
        History = history.ToArray();
        SelectedIteration = selectedIteration;
    }

    /// <summary>Rows n of the completed matrix.</summary>
    public int RowCount { get; }

    /// <summary>Columns d of the completed matrix.</summary>
    public int ColumnCount { get; }

    /// <summary>The completed matrix W (observed training entries kept as given), a copy.</summary>
    public Matrix<T> Completed => Matrix<T>.Build.DenseOfRowMajor(RowCount, ColumnCount, completed);

    /// <summary>One record per iteration; <see cref="LinearRfmIteration.UnobservedMse"/> is set when <c>Fit</c> was given the truth.</summary>
    public IReadOnlyList<LinearRfmIteration> History { get; }

    /// <summary>
    /// The iteration whose W this is (an index into <see cref="History"/>): with <see cref="MatrixCompletionOptions.RefitWithHeldOut"/>
    /// (the default) the last record, the step from the iterate with the lowest held-out error refitted with every observed
    /// entry; without it that iterate itself; the last iteration without a held-out set. The same name as
    /// <c>RfmModel&lt;T&gt;.SelectedIteration</c>.
    /// </summary>
    public int SelectedIteration { get; }

    /// <summary>
    /// Saves the model in the versioned binary format of <c>docs/file-format.md</c> (tag <c>LMC1</c>), atomically: written to a
    /// temporary file in the same directory, flushed and renamed over <paramref name="path"/>.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream in the versioned binary format.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.MatrixCompletionTag, PrecisionExtensions.Of<T>(), w =>
    {
        w.Write(RowCount);
        w.Write(ColumnCount);
        ModelFile.WriteArray(w, completed);
        LinearRfmFile.WriteHistory(w, History);
        w.Write(SelectedIteration);
    });

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a matrix completion model file of this precision, or a malformed one.</exception>
    public static MatrixCompletionModel<T> Load(string path) => ModelFile.LoadFromFile(path, Load);

    /// <summary>Reads a model from a stream written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not a matrix completion model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static MatrixCompletionModel<T> Load(Stream stream)
        => ModelFile.Load(stream, ModelFile.MatrixCompletionTag, PrecisionExtensions.Of<T>(), r =>
        {
            int n = r.ReadInt32("row count n", 1), d = r.ReadInt32("column count d", 1);
            var values = r.ReadArray<T>("completed matrix", n, d);
            var history = LinearRfmFile.ReadHistory(r);
            return new MatrixCompletionModel<T>(n, d, values, history, LinearRfmFile.ReadSelectedIteration(r, history.Length));
        });

    /// <inheritdoc />
    public override string ToString() => $"MatrixCompletionModel<{typeof(T).Name}>: {RowCount} x {ColumnCount}, iteration {SelectedIteration} of {History.Count}";
}

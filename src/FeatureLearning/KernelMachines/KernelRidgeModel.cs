using System.Diagnostics;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.KernelMachines;

/// <summary>
/// A fitted kernel ridge regressor f(x) = Σ_i α_i k_M(x, x_i): immutable; its training inputs and
/// coefficients are copies.
/// </summary>
/// <remarks>
/// A Nyström fit (<see cref="Solvers.NystromSolver"/>) is the same predictor over its m centres: <see cref="TrainingInputs"/>
/// are the centres, <see cref="TrainingCount"/> is m and <see cref="Coefficients"/> is β (m × c); <see cref="Nystrom"/>
/// holds the solve's report. It saves and loads like any kernel ridge model (the report is not saved).
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class KernelRidgeModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int PredictRowBlock = 4096;
    private readonly T[] trainingInputs;
    private readonly T[] coefficients;
    private readonly IComputeBackend? backend;

    internal KernelRidgeModel(IKernelFunction kernel, Metric metric, double ridge, double jitter, T[] trainingInputs, int n, int d, T[] coefficients, int c, IComputeBackend? backend)
    {
        Kernel = kernel;
        Metric = metric;
        Ridge = ridge;
        Jitter = jitter;
        this.trainingInputs = trainingInputs;
        this.coefficients = coefficients;
        TrainingCount = n;
        InputDimension = d;
        OutputDimension = c;
        this.backend = backend;
    }

    /// <summary>The kernel profile.</summary>
    public IKernelFunction Kernel { get; }

    /// <summary>The metric M of the kernel.</summary>
    public Metric Metric { get; }

    /// <summary>The ridge λ of the fit.</summary>
    public double Ridge { get; }

    /// <summary>
    /// The jitter the Cholesky solve had to add to the diagonal (0 when none): α solves (K + (λ + jitter)I)α = Y; for a
    /// Nyström fit, the jitter added to K_mm.
    /// </summary>
    public double Jitter { get; }

    /// <summary>
    /// What the Nyström solver did (centres, CG iterations, residual history) when the model was fitted with it;
    /// <see langword="null"/> for the exact solver and for a loaded model.
    /// </summary>
    public Solvers.NystromReport? Nystrom { get; init; }

    /// <summary>Number of training points n, or of centres m for a Nyström fit (rows of <see cref="Coefficients"/>).</summary>
    public int TrainingCount { get; }

    /// <summary>Input dimension d.</summary>
    public int InputDimension { get; }

    /// <summary>Number of outputs c.</summary>
    public int OutputDimension { get; }

    /// <summary>The coefficients α (n × c), a copy.</summary>
    public Matrix<T> Coefficients => Matrix<T>.Build.DenseOfRowMajor(TrainingCount, OutputDimension, coefficients);

    /// <summary>The training inputs (the kernel's centres, n × d; the m Nyström centres for a Nyström fit), a copy.</summary>
    public Matrix<T> TrainingInputs => Matrix<T>.Build.DenseOfRowMajor(TrainingCount, InputDimension, trainingInputs);

    /// <summary>Predicts f(x) for each row of <paramref name="x"/>, in blocks of rows so memory stays bounded.</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Backend to compute on; null for the one that fitted the model (or the default after <see cref="Load(string, IComputeBackend?)"/>).</param>
    /// <returns>Predictions, m × c.</returns>
    /// <exception cref="ArgumentException">Wrong number of columns, empty input, or NaN/∞.</exception>
    public Matrix<T> Predict(Matrix<T> x, IComputeBackend? computeBackend = null)
    {
        Validation.NonEmptyFinite(x, nameof(x));
        if (x.ColumnCount != InputDimension)
        {
            throw new ArgumentException($"The model was fitted on {InputDimension} features but x has {x.ColumnCount}.", nameof(x));
        }

        var be = computeBackend ?? backend ?? ComputeBackends.Default;
        int m = x.RowCount, n = TrainingCount, d = InputDimension, c = OutputDimension;
        var xData = x.ToRowMajorArray();
        var output = new T[m * c];
        using var centres = be.Upload<T>(trainingInputs, n, d);
        using var alpha = be.Upload<T>(coefficients, n, c);
        using var metric = Metric.Upload<T>(be);
        for (int i0 = 0; i0 < m; i0 += PredictRowBlock)
        {
            int rows = Math.Min(PredictRowBlock, m - i0);
            using var xb = be.Upload<T>(xData.AsSpan(i0 * d, rows * d), rows, d);
            using var f = be.Allocate<T>(rows, c);
            KernelProducts.Compute(be, Kernel, xb, centres, metric, alpha, f);
            be.Download(f, output.AsSpan(i0 * c, rows * c));
        }

        return Matrix<T>.Build.DenseOfRowMajor(m, c, output);
    }

    /// <summary>Predicts the class of each row: the index of the largest output (for one-hot targets).</summary>
    /// <param name="x">Inputs, m × d.</param>
    /// <param name="computeBackend">Optional backend, as in <see cref="Predict"/>.</param>
    /// <returns>Class indices, length m.</returns>
    public int[] PredictClass(Matrix<T> x, IComputeBackend? computeBackend = null) => Data.OneHot.ArgMax(Predict(x, computeBackend));

    /// <summary>
    /// Saves the model in the versioned binary format described in <c>docs/file-format.md</c>, atomically: the model is
    /// written to a temporary file in the same directory, flushed to disk and renamed over <paramref name="path"/>, so a
    /// failed save leaves an existing file untouched.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the model to a stream in the versioned binary format.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">The kernel is a user-defined type the format does not know.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.KernelRidgeTag, PrecisionExtensions.Of<T>(), WritePayload);

    /// <summary>Writes the fields after the header (shared with models that contain a kernel machine).</summary>
    internal void WritePayload(BinaryWriter w)
    {
        ModelFile.WriteKernel(w, Kernel);
        ModelFile.WriteMetric(w, Metric);
        w.Write(Ridge);
        w.Write(Jitter);
        w.Write(TrainingCount);
        w.Write(InputDimension);
        w.Write(OutputDimension);
        ModelFile.WriteArray(w, trainingInputs);
        ModelFile.WriteArray(w, coefficients);
    }

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The model.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a kernel ridge model file of this precision, or a malformed one (the message says what is wrong).</exception>
    public static KernelRidgeModel<T> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a model from a stream written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">Not a kernel ridge model of this precision, or malformed: bad magic, unsupported version, checksum mismatch, truncated, sizes beyond the data, invalid values.</exception>
    public static KernelRidgeModel<T> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.KernelRidgeTag, PrecisionExtensions.Of<T>(), r => ReadPayload(r, computeBackend));

    /// <summary>Reads the fields written by <see cref="WritePayload"/>.</summary>
    internal static KernelRidgeModel<T> ReadPayload(ModelReader r, IComputeBackend? computeBackend)
    {
        var kernel = ModelFile.ReadKernel(r);
        long metricAt = r.Position;
        var metric = ModelFile.ReadMetric(r);
        double ridge = r.ReadNonNegative("ridge");
        double jitter = r.ReadNonNegative("jitter");
        int n = r.ReadInt32("training count n", 1), d = r.ReadInt32("input dimension d", 1), c = r.ReadInt32("output count c", 1);
        ModelFile.RequireDimension(metric, d, metricAt);
        var x = r.ReadArray<T>("training inputs", n, d);
        var alpha = r.ReadArray<T>("coefficients", n, c);
        return new KernelRidgeModel<T>(kernel, metric, ridge, jitter, x, n, d, alpha, c, computeBackend);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"KernelRidgeModel<{typeof(T).Name}>: {Kernel.Name}, {Metric}, ridge {Ridge:G3}{(Jitter > 0 ? $" (+ jitter {Jitter:G3})" : string.Empty)}, n={TrainingCount}, d={InputDimension}, outputs={OutputDimension}";
}

using System.Diagnostics;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Estimators;

/// <summary>
/// A classifier fitted by <see cref="FeatureMachineClassifier"/>: the classes, the feature scaler and the kernel
/// machine (kernel ridge, or the selected round of an RFM). Immutable; saved and loaded as one file.
/// </summary>
/// <typeparam name="TLabel">The label type.</typeparam>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class FittedClassifier<TLabel>
    where TLabel : notnull
{
    private readonly FittedMachine machine;
    private readonly ClassLabels<TLabel> classes;

    internal FittedClassifier(FittedMachine machine, ClassLabels<TLabel> classes, double temperature)
    {
        this.machine = machine;
        this.classes = classes;
        Temperature = temperature;
    }

    /// <summary>The classes, sorted (strings in ordinal order); column k of the outputs and probabilities is class k.</summary>
    public IReadOnlyList<TLabel> Classes => classes.Classes;

    /// <summary>The feature standardisation applied before the kernel machine, or null when the options turned it off.</summary>
    public FeatureScaler? Scaler => machine.Scaler;

    /// <summary>The kernel machine on the scaled features (for an RFM, its selected round; its metric is the learned M).</summary>
    public KernelRidgeModel<double> KernelMachine => machine.KernelMachine;

    /// <summary>The RFM model with its history, or null for kernel ridge (one round).</summary>
    public RfmModel<double>? Rfm => machine.Rfm;

    /// <summary>The softmax temperature τ of <see cref="PredictProbabilities"/>.</summary>
    public double Temperature { get; }

    /// <summary>Number of features d the model expects.</summary>
    public int InputDimension => machine.InputDimension;

    /// <summary>The kernel outputs f(x), one column per class (the fit's targets were one-hot).</summary>
    /// <param name="x">Features, m × d.</param>
    /// <returns>m × classes outputs.</returns>
    /// <exception cref="ArgumentException">Ragged, empty or non-finite features, or another number of columns than in training.</exception>
    public Matrix<double> DecisionFunction(InputMatrix x) => machine.Outputs(x, nameof(x));

    /// <summary>The class of each row: the class of the largest kernel output.</summary>
    /// <param name="x">Features, m × d.</param>
    /// <returns>m labels.</returns>
    /// <exception cref="ArgumentException">Bad features, as in <see cref="DecisionFunction"/>.</exception>
    public TLabel[] Predict(InputMatrix x) => OneHot.ArgMax(machine.Outputs(x, nameof(x))).Select(k => classes[k]).ToArray();

    /// <summary>
    /// softmax(f(x) / τ) per row, with the kernel outputs f and the <see cref="Temperature"/> τ: each row sums to 1 and
    /// its arg max is <see cref="Predict"/>. Not calibrated probabilities: a score in [0, 1] whose sharpness τ sets.
    /// </summary>
    /// <param name="x">Features, m × d.</param>
    /// <returns>m × classes, column k for <c>Classes[k]</c>.</returns>
    /// <exception cref="ArgumentException">Bad features, as in <see cref="DecisionFunction"/>.</exception>
    public Matrix<double> PredictProbabilities(InputMatrix x)
    {
        var f = machine.Outputs(x, nameof(x));
        var p = Matrix<double>.Build.Dense(f.RowCount, f.ColumnCount);
        for (int i = 0; i < f.RowCount; i++)
        {
            double max = f.Row(i).Maximum();
            double sum = 0;
            for (int k = 0; k < f.ColumnCount; k++)
            {
                p[i, k] = Math.Exp((f[i, k] - max) / Temperature);
                sum += p[i, k];
            }

            for (int k = 0; k < f.ColumnCount; k++)
            {
                p[i, k] /= sum;
            }
        }

        return p;
    }

    /// <summary>The accuracy: the fraction of rows whose predicted label equals the given one.</summary>
    /// <param name="x">Features, m × d.</param>
    /// <param name="y">m labels (labels not among the classes count as wrong).</param>
    /// <returns>Accuracy in [0, 1].</returns>
    /// <exception cref="ArgumentException">Bad features, or a label count that differs from the rows.</exception>
    public double Score(InputMatrix x, IReadOnlyList<TLabel> y)
    {
        var predicted = Predict(x);
        FittedMachine.RequireCount(y, predicted.Length, nameof(y));
        var comparer = EqualityComparer<TLabel>.Default;
        return (double)predicted.Where((p, i) => comparer.Equals(p, y[i])).Count() / predicted.Length;
    }

    /// <summary>
    /// Saves the classifier (tag <c>FMC1</c>, <c>docs/file-format.md</c>): the kernel machine or RFM, the scaler, the
    /// temperature and the classes; atomically, as <see cref="KernelRidgeModel{T}.Save(string)"/>.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">Labels other than int or string, or a user-defined kernel.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the classifier to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">Labels other than int or string, or a user-defined kernel.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.ClassifierTag, Precision.Double, w =>
    {
        machine.WritePayload(w);
        w.Write(Temperature);
        classes.Write(w);
    });

    /// <summary>Loads a classifier saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a classifier file, labels of another type, or a malformed file.</exception>
    public static FittedClassifier<TLabel> Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a classifier from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="InvalidDataException">Not a classifier, labels of another type, or malformed.</exception>
    public static FittedClassifier<TLabel> Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.ClassifierTag, Precision.Double, r =>
        {
            var machine = FittedMachine.ReadPayload(r, computeBackend);
            long at = r.Position;
            double temperature = r.ReadDouble("temperature");
            if (!double.IsFinite(temperature) || temperature <= 0)
            {
                throw ModelReader.Corrupt($"the temperature at byte {at} is {temperature}; it must be positive and finite.");
            }

            var classes = ClassLabels<TLabel>.Read(r);
            if (classes.Count != machine.KernelMachine.OutputDimension)
            {
                throw ModelReader.Corrupt($"{classes.Count} classes but the kernel machine has {machine.KernelMachine.OutputDimension} outputs.");
            }

            return new FittedClassifier<TLabel>(machine, classes, temperature);
        });

    /// <inheritdoc />
    public override string ToString() =>
        $"FittedClassifier<{typeof(TLabel).Name}>: {Classes.Count} classes, {(Scaler is null ? "unscaled" : "standardised")} features; {(object?)Rfm ?? KernelMachine}";
}

using System.Diagnostics;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;

namespace FeatureLearning.Estimators;

/// <summary>
/// A regressor fitted by <see cref="FeatureMachineRegressor"/>: the feature scaler and the kernel machine (kernel
/// ridge, or the selected round of an RFM). Immutable; saved and loaded as one file.
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class FittedRegressor
{
    private readonly FittedMachine machine;

    internal FittedRegressor(FittedMachine machine) => this.machine = machine;

    /// <summary>The feature standardisation applied before the kernel machine, or null when the options turned it off.</summary>
    public FeatureScaler? Scaler => machine.Scaler;

    /// <summary>The kernel machine on the scaled features (for an RFM, its selected round; its metric is the learned M).</summary>
    public KernelRidgeModel<double> KernelMachine => machine.KernelMachine;

    /// <summary>The RFM model with its history, or null for kernel ridge (one round).</summary>
    public RfmModel<double>? Rfm => machine.Rfm;

    /// <summary>Number of features d the model expects.</summary>
    public int InputDimension => machine.InputDimension;

    /// <summary>Predicts the target of each row.</summary>
    /// <param name="x">Features, m × d.</param>
    /// <returns>m predictions.</returns>
    /// <exception cref="ArgumentException">Ragged, empty or non-finite features, or another number of columns than in training.</exception>
    public double[] Predict(InputMatrix x) => machine.Outputs(x, nameof(x)).Column(0).ToArray();

    /// <summary>The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² of the predictions.</summary>
    /// <param name="x">Features, m × d.</param>
    /// <param name="y">m targets, not all equal (R² is undefined for constant targets).</param>
    /// <returns>R² (1 for a perfect fit; negative when worse than the mean).</returns>
    /// <exception cref="ArgumentException">Bad features, a target count that differs from the rows, non-finite or constant targets.</exception>
    public double Score(InputMatrix x, IReadOnlyList<double> y)
    {
        var predicted = Predict(x);
        return RSquared(predicted, y, nameof(y));
    }

    /// <summary>
    /// Saves the regressor (tag <c>FMR1</c>, <c>docs/file-format.md</c>): the kernel machine or RFM and the scaler;
    /// atomically, as <see cref="KernelRidgeModel{T}.Save(string)"/>.
    /// </summary>
    /// <param name="path">File path (replaced).</param>
    /// <exception cref="NotSupportedException">A user-defined kernel.</exception>
    public void Save(string path) => ModelFile.SaveToFile(path, Save);

    /// <summary>Writes the regressor to a stream.</summary>
    /// <param name="stream">A writable stream (left open).</param>
    /// <exception cref="NotSupportedException">A user-defined kernel.</exception>
    public void Save(Stream stream) => ModelFile.Save(stream, ModelFile.RegressorTag, Precision.Double, machine.WritePayload);

    /// <summary>Loads a regressor saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The regressor.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a regressor file, or a malformed one.</exception>
    public static FittedRegressor Load(string path, IComputeBackend? computeBackend = null)
        => ModelFile.LoadFromFile(path, stream => Load(stream, computeBackend));

    /// <summary>Reads a regressor from a stream.</summary>
    /// <param name="stream">A readable stream (left open).</param>
    /// <param name="computeBackend">Backend for predictions; null for the process default.</param>
    /// <returns>The regressor.</returns>
    /// <exception cref="InvalidDataException">Not a regressor, or malformed.</exception>
    public static FittedRegressor Load(Stream stream, IComputeBackend? computeBackend = null)
        => ModelFile.Load(stream, ModelFile.RegressorTag, Precision.Double, r =>
        {
            var machine = FittedMachine.ReadPayload(r, computeBackend);
            if (machine.KernelMachine.OutputDimension != 1)
            {
                throw ModelReader.Corrupt($"a regressor has one output, not {machine.KernelMachine.OutputDimension}.");
            }

            return new FittedRegressor(machine);
        });

    /// <inheritdoc />
    public override string ToString() => $"FittedRegressor: {(Scaler is null ? "unscaled" : "standardised")} features; {(object?)Rfm ?? KernelMachine}";

    /// <summary>R² of predictions against targets, checked.</summary>
    internal static double RSquared(IReadOnlyList<double> predicted, IReadOnlyList<double> y, string name)
    {
        FittedMachine.RequireCount(y, predicted.Count, name);
        if (y.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("The targets must be finite.", name);
        }

        double mean = y.Average();
        double total = y.Sum(v => (v - mean) * (v - mean));
        if (total == 0)
        {
            throw new ArgumentException("The targets are all equal: R² is undefined.", name);
        }

        double residual = 0;
        for (int i = 0; i < y.Count; i++)
        {
            residual += (y[i] - predicted[i]) * (y[i] - predicted[i]);
        }

        return 1 - (residual / total);
    }
}

using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.KernelMachines;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Estimators;

/// <summary>
/// What the facade's fitted models share: the optional scaler and the kernel ridge or RFM model fitted on the scaled
/// features; fitting, the kernel outputs, and the model-file payload.
/// </summary>
internal sealed class FittedMachine
{
    private const byte KernelRidgeKind = 1;
    private const byte RfmKind = 2;

    private FittedMachine(FeatureScaler? scaler, KernelRidgeModel<double> kernelMachine, RfmModel<double>? rfm)
    {
        Scaler = scaler;
        KernelMachine = kernelMachine;
        Rfm = rfm;
    }

    public FeatureScaler? Scaler { get; }

    public KernelRidgeModel<double> KernelMachine { get; }

    public RfmModel<double>? Rfm { get; }

    public int InputDimension => KernelMachine.InputDimension;

    /// <summary>Fits the scaler on <paramref name="x"/> (when asked), then kernel ridge (one round) or RFM on the scaled data.</summary>
    public static FittedMachine Fit(
        FeatureMachineOptions options, Matrix<double> x, Matrix<double> y, (Matrix<double> X, Matrix<double> Y)? validation, IProgress<RfmIteration>? progress, CancellationToken cancellationToken)
    {
        var scaler = options.Standardize ? FeatureScaler.Fit(x) : null;
        var xs = scaler?.Transform(x) ?? x;
        if (options.Rounds == 1)
        {
            return new FittedMachine(scaler, new KernelRidge(options.ToKernelRidgeOptions()).Fit(xs, y, cancellationToken), null);
        }

        var v = validation is { } val ? (scaler?.Transform(val.X) ?? val.X, val.Y) : ((Matrix<double>, Matrix<double>)?)null;
        var rfm = new RecursiveFeatureMachine(options.ToRfmOptions()).Fit(xs, y, v, progress, cancellationToken);
        return new FittedMachine(scaler, rfm.Predictor, rfm);
    }

    /// <summary>Checks a validation set's features against the training features' width.</summary>
    public static Matrix<double> ValidationFeatures(InputMatrix xValidation, int columns, string name)
    {
        var m = xValidation.ToMatrix(name);
        if (m.ColumnCount != columns)
        {
            throw new ArgumentException($"The validation features have {m.ColumnCount} columns but the training features {columns}.", name);
        }

        return m;
    }

    /// <summary>Throws unless there is one label per row.</summary>
    public static void RequireCount<TLabel>(IReadOnlyList<TLabel>? labels, int rows, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.Count != rows)
        {
            throw new ArgumentException($"{labels.Count} targets for {rows} feature rows: one target per row is needed.", name);
        }
    }

    /// <summary>The kernel outputs f(x) (m × c) of checked features, scaled as in training.</summary>
    public Matrix<double> Outputs(InputMatrix x, string name)
    {
        var m = x.ToMatrix(name);
        if (m.ColumnCount != InputDimension)
        {
            throw new ArgumentException($"The model was fitted on {InputDimension} features but {name} has {m.ColumnCount}.", name);
        }

        return KernelMachine.Predict(Scaler?.Transform(m) ?? m);
    }

    public void WritePayload(BinaryWriter w)
    {
        if (Rfm is null)
        {
            w.Write(KernelRidgeKind);
            KernelMachine.WritePayload(w);
        }
        else
        {
            w.Write(RfmKind);
            Rfm.WritePayload(w);
        }

        w.Write((byte)(Scaler is null ? 0 : 1));
        if (Scaler is not null)
        {
            w.Write(Scaler.Dimension);
            ModelFile.WriteArray(w, Scaler.Mean.ToArray());
            ModelFile.WriteArray(w, Scaler.Scale.ToArray());
        }
    }

    public static FittedMachine ReadPayload(ModelReader r, IComputeBackend? computeBackend)
    {
        long at = r.Position;
        byte kind = r.ReadByte("machine kind");
        KernelRidgeModel<double> machine;
        RfmModel<double>? rfm = null;
        switch (kind)
        {
            case KernelRidgeKind:
                machine = KernelRidgeModel<double>.ReadPayload(r, computeBackend);
                break;
            case RfmKind:
                rfm = RfmModel<double>.ReadPayload(r, computeBackend);
                machine = rfm.Predictor;
                break;
            default:
                throw ModelReader.Corrupt($"the machine kind at byte {at} is {kind}, not {KernelRidgeKind} (kernel ridge) or {RfmKind} (RFM).");
        }

        at = r.Position;
        byte hasScaler = r.ReadByte("scaler flag");
        FeatureScaler? scaler = null;
        if (hasScaler == 1)
        {
            int d = r.ReadInt32("scaler dimension", 1);
            if (d != machine.InputDimension)
            {
                throw ModelReader.Corrupt($"the scaler at byte {at} has {d} columns but the model {machine.InputDimension}.");
            }

            scaler = FeatureScaler.FromStatistics(r.ReadArray<double>("scaler means", d), r.ReadArray<double>("scaler scales", d));
        }
        else if (hasScaler != 0)
        {
            throw ModelReader.Corrupt($"the scaler flag at byte {at} is {hasScaler}, not 0 or 1.");
        }

        return new FittedMachine(scaler, machine, rfm);
    }
}

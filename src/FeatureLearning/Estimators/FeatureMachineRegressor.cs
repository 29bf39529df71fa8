using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Estimators;

/// <summary>
/// The sklearn-shaped regressor over kernel ridge and the Recursive Feature Machine: plain arrays or matrices in, one
/// real target per row, the feature scaling kept in the fitted model. The targets are fitted as given (not scaled).
/// </summary>
/// <example>
/// <code>
/// var model = new FeatureMachineRegressor(new FeatureMachineOptions { Rounds = 5, Diagonal = true }).Fit(xTrain, yTrain);
/// double r2 = model.Score(xTest, yTest);
/// </code>
/// </example>
public sealed class FeatureMachineRegressor
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">The options (null for the defaults); validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public FeatureMachineRegressor(FeatureMachineOptions? options = null)
    {
        options ??= new FeatureMachineOptions();
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public FeatureMachineOptions Options { get; }

    /// <summary>
    /// Fits the scaler (when <see cref="FeatureMachineOptions.Standardize"/>) and the kernel machine; with a validation set,
    /// the RFM round with the lowest validation MSE is kept (see <see cref="RfmOptions.SelectBy"/>); kernel ridge ignores it.
    /// Without one, and with <see cref="FeatureMachineOptions.ValidationFraction"/> above 0, that fraction of the rows
    /// (a seeded random part) is held out for the same choice.
    /// </summary>
    /// <param name="x">Training features, n × d.</param>
    /// <param name="y">n finite targets.</param>
    /// <param name="xValidation">Optional validation features (given together with <paramref name="yValidation"/>).</param>
    /// <param name="yValidation">Optional validation targets.</param>
    /// <param name="progress">Receives each RFM round (asynchronously for <see cref="Progress{T}"/>; see <see cref="FeatureMachineOptions.OnRound"/>).</param>
    /// <param name="cancellationToken">Checked between the steps of the fit.</param>
    /// <returns>The immutable fitted regressor.</returns>
    /// <exception cref="ArgumentException">Ragged, empty or non-finite features or targets, or a target count that differs from the rows.</exception>
    public FittedRegressor Fit(
        InputMatrix x,
        IReadOnlyList<double> y,
        InputMatrix? xValidation = null,
        IReadOnlyList<double>? yValidation = null,
        IProgress<RfmIteration>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var xm = x.ToMatrix(nameof(x));
        var targets = Targets(y, xm.RowCount, nameof(y));
        (Matrix<double>, Matrix<double>)? validation = null;
        if (xValidation is { } xv)
        {
            var xvm = FittedMachine.ValidationFeatures(xv, xm.ColumnCount, nameof(xValidation));
            validation = (xvm, Targets(yValidation, xvm.RowCount, nameof(yValidation)));
        }
        else if (yValidation is not null)
        {
            throw new ArgumentException("Validation targets were given without validation features.", nameof(xValidation));
        }
        else if (Options.ValidationFraction > 0 && Options.Rounds > 1)
        {
            if (xm.RowCount < 2 || 1 - Options.ValidationFraction >= 1)
            {
                throw new ArgumentException($"ValidationFraction = {Options.ValidationFraction} cannot hold out a row of {xm.RowCount}: pass a validation set or a larger fraction.", nameof(xValidation));
            }

            var (fitRows, heldOut) = Data.RandomSplit.Indices(xm.RowCount, 1 - Options.ValidationFraction, Options.ValidationSeed);
            validation = (CrossValidation.Rows(xm, heldOut), CrossValidation.Rows(targets, heldOut));
            (xm, targets) = (CrossValidation.Rows(xm, fitRows), CrossValidation.Rows(targets, fitRows));
        }

        return new FittedRegressor(FittedMachine.Fit(Options, xm, targets, validation, progress, cancellationToken));
    }

    /// <summary>The targets as an n × 1 matrix, checked: one per row, finite.</summary>
    internal static Matrix<double> Targets(IReadOnlyList<double>? y, int rows, string name)
    {
        FittedMachine.RequireCount(y, rows, name);
        var m = Matrix<double>.Build.Dense(rows, 1, (i, _) => y![i]);
        Validation.NonEmptyFinite(m, name);
        return m;
    }
}

using FeatureLearning.Data;
using FeatureLearning.Rfm;

namespace FeatureLearning.Estimators;

/// <summary>
/// The sklearn-shaped classifier over kernel ridge and the Recursive Feature Machine: plain arrays or matrices in,
/// integer or string labels, the classes and the feature scaling kept in the fitted model.
/// </summary>
/// <example>
/// <code>
/// var model = new FeatureMachineClassifier(new FeatureMachineOptions { Rounds = 5 })
///     .Fit(xTrain, labelsTrain, xValidation, labelsValidation);
/// string[] predicted = model.Predict(xTest);
/// double accuracy = model.Score(xTest, labelsTest);
/// </code>
/// </example>
public sealed class FeatureMachineClassifier
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="options">The options (null for the defaults); validated here.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public FeatureMachineClassifier(FeatureMachineOptions? options = null)
    {
        options ??= new FeatureMachineOptions();
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public FeatureMachineOptions Options { get; }

    /// <summary>
    /// Fits the scaler (when <see cref="FeatureMachineOptions.Standardize"/>) and the kernel machine to one-hot targets of
    /// the labels, like xRFM's <c>fit(X, y, X_val, y_val)</c>: with a validation set, the RFM round with the best
    /// validation accuracy is kept (see <see cref="RfmOptions.SelectBy"/>); kernel ridge ignores it. Without one, and with
    /// <see cref="FeatureMachineOptions.ValidationFraction"/> above 0, that fraction of the rows (stratified) is held out
    /// for the same choice.
    /// </summary>
    /// <typeparam name="TLabel">The label type (int and string labels can be saved).</typeparam>
    /// <param name="x">Training features, n × d.</param>
    /// <param name="y">n labels, at least two distinct ones.</param>
    /// <param name="xValidation">Optional validation features (given together with <paramref name="yValidation"/>).</param>
    /// <param name="yValidation">Optional validation labels, each one of the training classes.</param>
    /// <param name="progress">Receives each RFM round (asynchronously for <see cref="Progress{T}"/>; see <see cref="FeatureMachineOptions.OnRound"/>).</param>
    /// <param name="cancellationToken">Checked between the steps of the fit.</param>
    /// <returns>The immutable fitted classifier.</returns>
    /// <exception cref="ArgumentException">Ragged, empty or non-finite features, a label count that differs from the rows, fewer than two classes, a validation label not among them.</exception>
    public FittedClassifier<TLabel> Fit<TLabel>(
        InputMatrix x,
        IReadOnlyList<TLabel> y,
        InputMatrix? xValidation = null,
        IReadOnlyList<TLabel>? yValidation = null,
        IProgress<RfmIteration>? progress = null,
        CancellationToken cancellationToken = default)
        where TLabel : notnull
    {
        var xm = x.ToMatrix(nameof(x));
        FittedMachine.RequireCount(y, xm.RowCount, nameof(y));
        var classes = ClassLabels<TLabel>.From(y, nameof(y));
        var targets = OneHot.Encode(classes.Indices(y, nameof(y)), classes.Count);
        (MathNet.Numerics.LinearAlgebra.Matrix<double>, MathNet.Numerics.LinearAlgebra.Matrix<double>)? validation = null;
        if (xValidation is { } xv)
        {
            var xvm = FittedMachine.ValidationFeatures(xv, xm.ColumnCount, nameof(xValidation));
            FittedMachine.RequireCount(yValidation, xvm.RowCount, nameof(yValidation));
            validation = (xvm, OneHot.Encode(classes.Indices(yValidation!, nameof(yValidation)), classes.Count));
        }
        else if (yValidation is not null)
        {
            throw new ArgumentException("Validation labels were given without validation features.", nameof(xValidation));
        }
        else if (Options.ValidationFraction > 0 && Options.Rounds > 1)
        {
            // Hold out a stratified part of the training rows to choose the round on.
            if (1 - Options.ValidationFraction >= 1)
            {
                throw new ArgumentException($"ValidationFraction = {Options.ValidationFraction} is too small to hold out a row.", nameof(xValidation));
            }

            // A class of one stays in the fit set (it could not be predicted otherwise); a class of two gives one row to each.
            var (fitRows, heldOut) = Data.RandomSplit.StratifiedIndices(classes.Indices(y, nameof(y)), 1 - Options.ValidationFraction, Options.ValidationSeed, singletonsTrain: true);
            if (heldOut.Length == 0)
            {
                throw new ArgumentException($"ValidationFraction = {Options.ValidationFraction} holds out no row of these {xm.RowCount} (every class has one row, or the fraction is too small): pass a validation set or a larger fraction.", nameof(xValidation));
            }

            validation = (CrossValidation.Rows(xm, heldOut), CrossValidation.Rows(targets, heldOut));
            (xm, targets) = (CrossValidation.Rows(xm, fitRows), CrossValidation.Rows(targets, fitRows));
        }

        var machine = FittedMachine.Fit(Options, xm, targets, validation, progress, cancellationToken);
        return new FittedClassifier<TLabel>(machine, classes, Options.Temperature);
    }
}

namespace FeatureLearning.Trees;

/// <summary>What an <see cref="RfmTree"/> fit reports: a node split while planning, or a leaf fitted.</summary>
/// <param name="Stage">Whether a node was split or a leaf was fitted.</param>
/// <param name="Tree">The tree (from 0) of the node or leaf.</param>
/// <param name="Leaf">For <see cref="RfmTreeStage.Leaf"/>: the leaf's index among all leaves of all trees (from 0); −1 for a split.</param>
/// <param name="Leaves">For <see cref="RfmTreeStage.Leaf"/>: the number of leaves of all trees; 0 for a split (not known yet).</param>
/// <param name="Completed">For <see cref="RfmTreeStage.Leaf"/>: how many leaves are done, this one included (leaves fitted in parallel finish in any order); the number of splits so far for a split.</param>
/// <param name="Rows">Training rows of the node or leaf.</param>
/// <param name="SelectedRound">For a leaf: the round its RFM kept; for a split: the last round of the split RFM.</param>
/// <param name="ValidationMse">For a leaf: the validation MSE of the kept round (NaN without a validation split); NaN for a split.</param>
/// <param name="Seconds">Wall time of the split or of the leaf's fit.</param>
public readonly record struct RfmTreeProgress(
    RfmTreeStage Stage,
    int Tree,
    int Leaf,
    int Leaves,
    int Completed,
    int Rows,
    int SelectedRound,
    double ValidationMse,
    double Seconds)
{
    /// <inheritdoc />
    public override string ToString() => Stage == RfmTreeStage.Split
        ? $"tree {Tree}: split {Completed} ({Rows} rows), {Seconds:F2} s"
        : $"leaf {Leaf + 1} of {Leaves} (tree {Tree}, {Rows} rows, {Completed} done): round {SelectedRound}" +
          (double.IsNaN(ValidationMse) ? string.Empty : $", validation MSE {ValidationMse:G4}") + $", {Seconds:F2} s";
}

namespace FeatureLearning.Trees;

/// <summary>The two kinds of step an <see cref="RfmTree"/> fit reports.</summary>
public enum RfmTreeStage
{
    /// <summary>A node was split: its split RFM was fitted and the data divided at the median projection.</summary>
    Split,

    /// <summary>A leaf's RFM was fitted.</summary>
    Leaf,
}

using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>One-hot encoding of class labels, and its inverse (arg max per row).</summary>
public static class OneHot
{
    /// <summary>Encodes labels 0 … classes − 1 as one-hot rows.</summary>
    /// <param name="labels">Class labels.</param>
    /// <param name="classes">Number of classes.</param>
    /// <returns>An n × classes matrix with a single 1 per row.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside 0 … classes − 1.</exception>
    public static Matrix<double> Encode(IReadOnlyList<int> labels, int classes) => Encode<double>(labels, classes);

    /// <summary>Encodes labels 0 … classes − 1 as one-hot rows in the given precision.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="labels">Class labels.</param>
    /// <param name="classes">Number of classes.</param>
    /// <returns>An n × classes matrix with a single 1 per row.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside 0 … classes − 1.</exception>
    public static Matrix<T> Encode<T>(IReadOnlyList<int> labels, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        var m = Matrix<T>.Build.Dense(labels.Count, classes);
        for (int i = 0; i < labels.Count; i++)
        {
            int label = labels[i];
            if (label < 0 || label >= classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {i} is {label}; labels must lie in 0 … {classes - 1}.");
            }

            m[i, label] = T.One;
        }

        return m;
    }

    /// <summary>The column of the largest entry of each row (the first one on ties).</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="scores">An m × c matrix.</param>
    /// <returns>The arg max of each row.</returns>
    public static int[] ArgMax<T>(Matrix<T> scores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(scores);
        var result = new int[scores.RowCount];
        for (int i = 0; i < scores.RowCount; i++)
        {
            int best = 0;
            for (int j = 1; j < scores.ColumnCount; j++)
            {
                if (scores[i, j] > scores[i, best])
                {
                    best = j;
                }
            }

            result[i] = best;
        }

        return result;
    }

    /// <summary>The fraction of predictions equal to the labels.</summary>
    /// <param name="predicted">Predicted classes.</param>
    /// <param name="labels">True classes, same length.</param>
    /// <returns>Accuracy in [0, 1].</returns>
    public static double Accuracy(IReadOnlyList<int> predicted, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(labels);
        if (predicted.Count != labels.Count || labels.Count == 0)
        {
            throw new ArgumentException($"Need equal, non-zero lengths; got {predicted.Count} predictions for {labels.Count} labels.", nameof(labels));
        }

        int hits = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            hits += predicted[i] == labels[i] ? 1 : 0;
        }

        return (double)hits / labels.Count;
    }
}

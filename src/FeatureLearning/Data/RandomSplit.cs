namespace FeatureLearning.Data;

/// <summary>The seeded random train/test split of the data sets.</summary>
internal static class RandomSplit
{
    /// <summary>Throws unless 0 &lt; fraction &lt; 1.</summary>
    public static void CheckFraction(double trainFraction)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The training fraction must lie strictly between 0 and 1.");
        }
    }

    /// <summary>A seeded permutation of 0 … count − 1 cut after round(fraction · count) rows (at least one row in each part).</summary>
    public static (int[] Train, int[] Test) Indices(int count, double trainFraction, int seed)
    {
        CheckFraction(trainFraction);
        if (count < 2)
        {
            throw new InvalidOperationException($"A split needs at least two examples; the data set has {count}.");
        }

        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int nTrain = Math.Clamp((int)Math.Round(trainFraction * count), 1, count - 1);
        return (order[..nTrain], order[nTrain..]);
    }

    /// <summary>
    /// Each class's rows permuted (seeded, classes in increasing order) and cut after round(fraction · size) rows, at least
    /// one row on each side for a class of two or more; a class of one goes to the test part, or to the training part with
    /// <paramref name="singletonsTrain"/>. Both parts sorted.
    /// </summary>
    public static (int[] Train, int[] Test) StratifiedIndices(IReadOnlyList<int> classIndex, double trainFraction, int seed, bool singletonsTrain = false)
    {
        CheckFraction(trainFraction);
        var rng = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, classIndex.Count).GroupBy(i => classIndex[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            rng.Shuffle(members);
            int nTrain = members.Length == 1 && singletonsTrain ? 1
                : Math.Clamp((int)Math.Round(trainFraction * members.Length), members.Length > 1 ? 1 : 0, Math.Max(0, members.Length - 1));
            train.AddRange(members[..nTrain]);
            test.AddRange(members[nTrain..]);
        }

        train.Sort();
        test.Sort();
        return (train.ToArray(), test.ToArray());
    }
}

namespace FeatureLearning.Rfm;

/// <summary>The seeded subsets of training points that the RFM variants evaluate their AGOP on.</summary>
internal static class SeededSample
{
    /// <summary><paramref name="size"/> distinct indices of 0..n-1 drawn with <paramref name="seed"/>, in increasing order.</summary>
    public static int[] Indices(int n, int size, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var sample = order[..size];
        Array.Sort(sample);
        return sample;
    }
}

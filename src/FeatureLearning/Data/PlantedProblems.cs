using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>Seeded planted problems with a known truth for lin-RFM: low-rank matrix completion and sparse regression.</summary>
public static class PlantedProblems
{
    /// <summary>
    /// Y = UV/√r with Gaussian U (rows × r) and V (r × cols), scaled to unit mean square, and <paramref name="observed"/>
    /// entries drawn uniformly at random without replacement.
    /// </summary>
    /// <param name="rows">Rows.</param>
    /// <param name="columns">Columns.</param>
    /// <param name="rank">Rank r.</param>
    /// <param name="observed">Number of observed entries.</param>
    /// <param name="seed">Seed.</param>
    /// <returns>The truth and the observed entries.</returns>
    public static (Matrix<double> Truth, ObservedEntries Observed) LowRank(int rows, int columns, int rank, int observed, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        if (observed < 1 || (long)observed > (long)rows * columns)
        {
            throw new ArgumentOutOfRangeException(nameof(observed), observed, $"Between 1 and {(long)rows * columns} entries can be observed.");
        }

        var rng = new Random(seed);
        var normal = new Normal(0, 1, rng);
        var u = Matrix<double>.Build.Random(rows, rank, normal);
        var v = Matrix<double>.Build.Random(rank, columns, normal);
        var truth = u * v / Math.Sqrt(rank);
        double meanSquare = truth.Enumerate().Average(x => x * x);
        truth /= Math.Sqrt(meanSquare);

        var chosen = new HashSet<long>();
        var r = new int[observed];
        var c = new int[observed];
        var values = new double[observed];
        int e = 0;
        while (e < observed)
        {
            long key = rng.NextInt64((long)rows * columns);
            if (chosen.Add(key))
            {
                r[e] = (int)(key / columns);
                c[e] = (int)(key % columns);
                values[e] = truth[r[e], c[e]];
                e++;
            }
        }

        return (truth, new ObservedEntries(rows, columns, r, c, values));
    }

    /// <summary>A k-sparse w (Gaussian non-zeros at random positions), Gaussian X (n × d) and y = Xw.</summary>
    /// <param name="samples">n.</param>
    /// <param name="features">d.</param>
    /// <param name="nonZeros">k.</param>
    /// <param name="seed">Seed.</param>
    /// <returns>X, y and the true w.</returns>
    public static (Matrix<double> X, MathNet.Numerics.LinearAlgebra.Vector<double> Y, MathNet.Numerics.LinearAlgebra.Vector<double> W) SparseRegression(int samples, int features, int nonZeros, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (nonZeros < 1 || nonZeros > features)
        {
            throw new ArgumentOutOfRangeException(nameof(nonZeros), nonZeros, $"Between 1 and {features} non-zeros are possible.");
        }

        var rng = new Random(seed);
        var normal = new Normal(0, 1, rng);
        var x = Matrix<double>.Build.Random(samples, features, normal);
        var w = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(features);
        var positions = Enumerable.Range(0, features).ToArray();
        rng.Shuffle(positions);
        foreach (int j in positions.Take(nonZeros))
        {
            w[j] = normal.Sample();
        }

        return (x, x * w, w);
    }
}

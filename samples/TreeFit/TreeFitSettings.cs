using System.Text.Json;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Trees;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Samples;

/// <summary>
/// What <c>plan</c> decides and the later verbs read back (<c>plan.json</c>): the tree's options, the data's shape and
/// scaling, and the number of leaves. Also the synthetic problem and the shard files, shared with the tests.
/// </summary>
internal sealed record TreeFitSettings
{
    public const string PlanFile = "plan.json";
    public const string RoutingFile = "routing.flm";
    public const string TestFile = "test.bin";
    public const string ModelFile = "model.flm";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public int LeafSize { get; init; } = 2_000;
    public int SplitSample { get; init; } = 2_000;
    public int SplitRounds { get; init; } = 3;
    public int Rounds { get; init; } = 5;
    public double Bandwidth { get; init; } = 10;
    public double Ridge { get; init; } = 1e-3;
    public bool Diagonal { get; init; }
    public int? AgopSample { get; init; }
    public int Trees { get; init; } = 1;
    public double ValidationFraction { get; init; } = 0.2;
    public int Seed { get; init; }
    public string Precision { get; init; } = "double";

    /// <summary>Where the data came from: <c>synthetic</c> or the CSV path.</summary>
    public string Source { get; init; } = "synthetic";
    public int Rows { get; init; }
    public int Dimension { get; init; }
    public int Outputs { get; init; }
    public int Leaves { get; init; }

    /// <summary>The standardisation applied before planning (CSV data; null for the synthetic problem, already standard).</summary>
    public double[]? ScalerMean { get; init; }
    public double[]? ScalerScale { get; init; }

    public static string ShardFile(int leaf) => Path.Combine("shards", $"leaf-{leaf:D5}.bin");

    public static string LeafFile(int leaf) => Path.Combine("leaves", $"leaf-{leaf:D5}.flm");

    /// <summary>The library options these settings stand for.</summary>
    public RfmTreeOptions ToOptions(IComputeBackend backend, int maxParallelLeaves = 1)
    {
        var leaf = new RfmOptions
        {
            Kernel = new LaplaceKernel(Bandwidth),
            Ridge = Ridge,
            Rounds = Rounds,
            Diagonal = Diagonal,
            AgopSampleSize = AgopSample,
            Seed = Seed,
            Backend = backend,
        };
        return new RfmTreeOptions
        {
            MaxLeafSize = LeafSize,
            SplitSampleSize = SplitSample,
            SplitRfm = leaf with { Rounds = SplitRounds, SelectBy = SelectionMetric.Last },
            LeafRfm = leaf,
            ValidationFraction = ValidationFraction,
            Trees = Trees,
            Seed = Seed,
            MaxParallelLeaves = maxParallelLeaves,
        };
    }

    public void Write(string directory) =>
        File.WriteAllText(Path.Combine(directory, PlanFile), JsonSerializer.Serialize(this, Indented));

    public static TreeFitSettings Read(string directory)
    {
        string path = Path.Combine(directory, PlanFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist: run the plan verb first.", path);
        }

        return JsonSerializer.Deserialize<TreeFitSettings>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty.");
    }

    /// <summary>
    /// The seeded synthetic problem: x ~ N(0, I_d), y = 2 tanh(2x₁) + (x₂x₃ + x₄x₅ + x₆x₇ where x₁ &gt; 0, x₈x₉ + x₁₀x₁₁ +
    /// x₁₂x₁₃ elsewhere): the relevant directions differ between the halves of the input space that e₁ separates.
    /// </summary>
    public static (Matrix<double> X, Matrix<double> Y) TwoHalves(int n, int d, int seed)
    {
        if (d < 13)
        {
            throw new ArgumentOutOfRangeException(nameof(d), d, "The synthetic problem needs d >= 13.");
        }

        var x = Matrix<double>.Build.Random(n, d, new Normal(0, 1, new Random(seed)));
        var y = Matrix<double>.Build.Dense(n, 1, (i, _) => (2 * Math.Tanh(2 * x[i, 0])) + (x[i, 0] > 0
            ? (x[i, 1] * x[i, 2]) + (x[i, 3] * x[i, 4]) + (x[i, 5] * x[i, 6])
            : (x[i, 7] * x[i, 8]) + (x[i, 9] * x[i, 10]) + (x[i, 11] * x[i, 12])));
        return (x, y);
    }

    /// <summary>
    /// Writes a shard (little-endian): magic <c>FLSH</c>, int32 version 1, int32 rows, d, c, then rows·d and rows·c doubles
    /// (row-major), through a temporary file renamed over the target so a rerun job never leaves half a shard.
    /// </summary>
    public static void WriteShard(string path, Matrix<double> x, Matrix<double> y)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        using (var w = new BinaryWriter(File.Create(temporary)))
        {
            w.Write("FLSH"u8);
            w.Write(1);
            w.Write(x.RowCount);
            w.Write(x.ColumnCount);
            w.Write(y.ColumnCount);
            foreach (double v in x.ToRowMajorArray())
            {
                w.Write(v);
            }

            foreach (double v in y.ToRowMajorArray())
            {
                w.Write(v);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    public static (Matrix<double> X, Matrix<double> Y) ReadShard(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (!r.ReadBytes(4).AsSpan().SequenceEqual("FLSH"u8) || r.ReadInt32() != 1)
        {
            throw new InvalidDataException($"{path} is not a TreeFit shard (version 1).");
        }

        int n = r.ReadInt32(), d = r.ReadInt32(), c = r.ReadInt32();
        if (n < 1 || d < 1 || c < 1 || r.BaseStream.Length != 20 + (8L * n * (d + c)))
        {
            throw new InvalidDataException($"{path}: a shard of {n} × {d} inputs and {c} outputs must hold {20 + (8L * n * (d + c))} bytes, not {r.BaseStream.Length}.");
        }

        var x = new double[n * d];
        var y = new double[n * c];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = r.ReadDouble();
        }

        for (int i = 0; i < y.Length; i++)
        {
            y[i] = r.ReadDouble();
        }

        return (Matrix<double>.Build.DenseOfRowMajor(n, d, x), Matrix<double>.Build.DenseOfRowMajor(n, c, y));
    }
}

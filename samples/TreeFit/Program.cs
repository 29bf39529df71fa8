// The RFM tree fitted past one machine: the leaves of a tree are independent jobs for an existing scheduler.
//
//   dotnet run -c Release --project samples/TreeFit -- plan --dir work [--csv data.csv [--header] [--target-column k]]
//       [--n 20000 --d 20 --n-test 2000] [--test-fraction 0.2] [--leaf-size 2000] [--split-sample 2000] [--split-rounds 3]
//       [--rounds 5] [--bandwidth 10] [--ridge 1e-3] [--diagonal] [--agop-sample m] [--trees 1] [--validation-fraction 0.2]
//       [--seed 0] [--precision double] [--backend managed] [--json]
//   dotnet TreeFit.dll fit-leaf --dir work --leaf i [--batch k] [--backend managed]
//       (i from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when --leaf is absent; with --batch k, task i fits leaves
//       i·k … i·k + k − 1, for more leaves than a job array may have tasks)
//   dotnet TreeFit.dll assemble --dir work [--json]
//
// plan builds the splits (RfmTree.Plan) on the training data, writes plan.json (the options, read back by the other verbs),
// routing.flm (RfmTreeRouting), one shard per leaf (shards/leaf-00000.bin …) and the test set (test.bin). fit-leaf i fits
// leaf i from its shard alone (RfmTree.FitLeaf) and writes leaves/leaf-0000i.flm (an RfmModel). assemble loads the routing
// and every leaf file into one RfmTreeModel, writes model.flm and prints the test MSE and R². The data is a CSV (features
// standardised with the training statistics) or, without --csv, the seeded synthetic problem of TreeFitSettings.TwoHalves.
// docs/scale.md shows a Slurm job array and a Kubernetes indexed Job running the three steps.
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Data;
using FeatureLearning.Rfm;
using FeatureLearning.Samples;
using FeatureLearning.Trees;
using MathNet.Numerics.LinearAlgebra;

if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
{
    Console.Error.WriteLine("usage: TreeFit plan|fit-leaf|assemble --dir DIR [options]; see the comment at the top of samples/TreeFit/Program.cs.");
    return 2;
}

string verb = args[0];
var options = new SampleOptions(args[1..]);
string dir = options.Get("dir", "treefit");
using var backend = options.Backend();
try
{
    switch (verb)
    {
        case "plan":
            Plan(options, dir, backend);
            break;
        case "fit-leaf":
            var settings = TreeFitSettings.Read(dir);
            int task = LeafIndex(options), batch = options.Get("batch", 1);
            if (batch < 1)
            {
                throw new ArgumentException($"--batch must be at least 1, not {batch}.");
            }

            if (task < 0 || (long)task * batch >= settings.Leaves)
            {
                throw new ArgumentException($"--leaf {task} is not a leaf: the plan has leaves 0 … {settings.Leaves - 1}" + (batch > 1 ? $", tasks 0 … {((settings.Leaves + batch - 1) / batch) - 1} of {batch} leaves." : "."));
            }

            for (int leaf = task * batch; leaf < Math.Min(settings.Leaves, (task + 1) * batch); leaf++)
            {
                Run(settings, new FitLeafVerb(dir, settings, leaf, backend));
            }

            break;
        case "assemble":
            Run(TreeFitSettings.Read(dir), new AssembleVerb(dir, options.Has("json"), backend));
            break;
        default:
            Console.Error.WriteLine($"Unknown verb '{verb}': use plan, fit-leaf or assemble.");
            return 2;
    }
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
{
    Console.Error.WriteLine($"{verb}: {e.Message}");
    return 1;
}

return 0;

static int LeafIndex(SampleOptions options)
{
    if (options.Has("leaf"))
    {
        return options.Get("leaf", -1);
    }

    foreach (string name in new[] { "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX" })
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            return index;
        }
    }

    throw new ArgumentException("fit-leaf needs --leaf i (or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX in the environment).");
}

static void Run(TreeFitSettings settings, IVerb verb)
{
    if (settings.Precision == "single")
    {
        verb.Run<float>();
    }
    else
    {
        verb.Run<double>();
    }
}

static void Plan(SampleOptions o, string dir, IComputeBackend backend)
{
    var settings = new TreeFitSettings
    {
        LeafSize = o.Get("leaf-size", 2_000),
        SplitSample = o.Get("split-sample", 2_000),
        SplitRounds = o.Get("split-rounds", 3),
        Rounds = o.Get("rounds", 5),
        Bandwidth = o.Get("bandwidth", 10.0),
        Ridge = o.Get("ridge", 1e-3),
        Diagonal = o.Has("diagonal"),
        AgopSample = o.Has("agop-sample") ? o.Get("agop-sample", 0) : null,
        Trees = o.Get("trees", 1),
        ValidationFraction = o.Get("validation-fraction", 0.2),
        Seed = o.Get("seed", 0),
        Precision = o.Precision() == Precision.Single ? "single" : "double",
    };

    Matrix<double> x, y, xTest, yTest;
    if (o.Has("csv"))
    {
        string path = o.Get("csv", string.Empty);
        var data = RegressionDataSet.LoadCsv(path, new CsvOptions { HasHeader = o.Has("header"), LabelColumn = o.Has("target-column") ? o.Get("target-column", 0) : null });
        var (train, test) = data.Split(1 - o.Get("test-fraction", 0.2), settings.Seed);
        var scaler = FeatureScaler.Fit(train.Features);
        (x, xTest) = (scaler.Transform(train.Features), scaler.Transform(test.Features));
        y = Matrix<double>.Build.Dense(train.Count, 1, (i, _) => train.Targets[i]);
        yTest = Matrix<double>.Build.Dense(test.Count, 1, (i, _) => test.Targets[i]);
        settings = settings with { Source = Path.GetFullPath(path), ScalerMean = [.. scaler.Mean], ScalerScale = [.. scaler.Scale] };
    }
    else
    {
        int n = o.Get("n", 20_000), d = o.Get("d", 20);
        (x, y) = TreeFitSettings.TwoHalves(n, d, settings.Seed);
        (xTest, yTest) = TreeFitSettings.TwoHalves(o.Get("n-test", Math.Max(1, n / 10)), d, settings.Seed + 1);
    }

    Directory.CreateDirectory(dir);
    var clock = Stopwatch.StartNew();
    var options = settings.ToOptions(backend);
    var plan = settings.Precision == "single"
        ? new RfmTree(options).Plan(x.Map(v => (float)v), y.Map(v => (float)v), new TreeProgress())
        : new RfmTree(options).Plan(x, y, new TreeProgress());
    plan.Routing.Save(Path.Combine(dir, TreeFitSettings.RoutingFile));
    for (int leaf = 0; leaf < plan.LeafCount; leaf++)
    {
        var rows = plan.LeafRows(leaf);
        TreeFitSettings.WriteShard(Path.Combine(dir, TreeFitSettings.ShardFile(leaf)), Matrix<double>.Build.DenseOfRowVectors(rows.Select(x.Row)), Matrix<double>.Build.DenseOfRowVectors(rows.Select(y.Row)));
    }

    TreeFitSettings.WriteShard(Path.Combine(dir, TreeFitSettings.TestFile), xTest, yTest);
    settings = settings with { Rows = x.RowCount, Dimension = x.ColumnCount, Outputs = y.ColumnCount, Leaves = plan.LeafCount };
    settings.Write(dir);
    if (o.Has("json"))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"leaves\": {plan.LeafCount}, \"splits\": {plan.Routing.SplitCount}, \"rows\": {x.RowCount}, \"test_rows\": {xTest.RowCount}, \"seconds\": {clock.Elapsed.TotalSeconds:F3}}}"));
        return;
    }

    Console.WriteLine($"Backend: {backend.Describe()}");
    Console.WriteLine($"{settings.Source}: {x.RowCount} training rows x {x.ColumnCount} features, {xTest.RowCount} test rows.");
    Console.WriteLine($"{plan} in {clock.Elapsed.TotalSeconds:F1} s. Next: fit-leaf --leaf i for i = 0 … {plan.LeafCount - 1}, then assemble.");
}

internal interface IVerb
{
    void Run<T>()
        where T : unmanaged, IFloatingPointIeee754<T>;
}

internal sealed class FitLeafVerb(string dir, TreeFitSettings settings, int leaf, IComputeBackend backend) : IVerb
{
    public void Run<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var clock = Stopwatch.StartNew();
        var (x, y) = TreeFitSettings.ReadShard(Path.Combine(dir, TreeFitSettings.ShardFile(leaf)));
        var model = new RfmTree(settings.ToOptions(backend)).FitLeaf(leaf, x.Map(T.CreateTruncating), y.Map(T.CreateTruncating));
        string path = Path.Combine(dir, TreeFitSettings.LeafFile(leaf));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        model.Save(path);
        var kept = model.History[model.SelectedIteration];
        Console.WriteLine($"leaf {leaf} of {settings.Leaves}: {x.RowCount} rows, kept {kept}; {clock.Elapsed.TotalSeconds:F1} s -> {path}");
    }
}

internal sealed class AssembleVerb(string dir, bool json, IComputeBackend backend) : IVerb
{
    public void Run<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var clock = Stopwatch.StartNew();
        var routing = RfmTreeRouting.Load(Path.Combine(dir, TreeFitSettings.RoutingFile));
        var missing = Enumerable.Range(0, routing.LeafCount).Where(l => !File.Exists(Path.Combine(dir, TreeFitSettings.LeafFile(l)))).ToArray();
        if (missing.Length > 0)
        {
            throw new IOException($"{missing.Length} leaf file(s) missing (leaves {string.Join(", ", missing.Take(20))}{(missing.Length > 20 ? ", …" : string.Empty)}): run fit-leaf for them first.");
        }

        var leaves = Enumerable.Range(0, routing.LeafCount).Select(l => RfmModel<T>.Load(Path.Combine(dir, TreeFitSettings.LeafFile(l)), backend)).ToArray();
        var model = RfmTreeModel<T>.Assemble(routing, leaves);
        string modelPath = Path.Combine(dir, TreeFitSettings.ModelFile);
        model.Save(modelPath);
        var (xTest, yTest) = TreeFitSettings.ReadShard(Path.Combine(dir, TreeFitSettings.TestFile));
        var prediction = model.Predict(xTest.Map(T.CreateTruncating), backend).Map(double.CreateTruncating);
        double mse = (prediction - yTest).Enumerate().Average(v => v * v);
        double mean = yTest.Enumerate().Average();
        double r2 = 1 - (mse / yTest.Enumerate().Average(v => (v - mean) * (v - mean)));
        if (json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"leaves\": {model.Leaves.Count}, \"test_rows\": {xTest.RowCount}, \"test_mse\": {mse:R}, \"test_r2\": {r2:R}, \"seconds\": {clock.Elapsed.TotalSeconds:F3}, \"model\": \"{modelPath}\"}}"));
        }
        else
        {
            Console.WriteLine(model);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test MSE {mse:G6}, R² {r2:F4} on {xTest.RowCount} rows; {clock.Elapsed.TotalSeconds:F1} s -> {modelPath}"));
        }
    }
}

/// <summary>One line per split and per fitted leaf on standard error, written on the reporting thread.</summary>
internal sealed class TreeProgress : IProgress<RfmTreeProgress>
{
    public void Report(RfmTreeProgress value) => Console.Error.WriteLine(value);
}

using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FeatureLearning.Compute;
using FeatureLearning.Samples;
using FeatureLearning.Trees;

namespace FeatureLearning.Tests.Trees;

/// <summary>The distributed fit of samples/TreeFit: plan, fit-leaf per leaf and assemble, each a separate process.</summary>
public sealed class TreeFitProcessTests
{
    private static readonly ManagedBackend Backend = new();

    private static string TreeFitDll => typeof(TreeFitProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TreeFitPath").Value!;

    [Fact]
    public void ThreeVerbsInSeparateProcessesGiveTheInProcessFit()
    {
        File.Exists(TreeFitDll).Should().BeTrue($"the test project builds samples/TreeFit ({TreeFitDll})");
        string dir = Path.Combine(Path.GetTempPath(), $"treefit-{Guid.NewGuid():N}");
        try
        {
            Run(dir, "plan", "--n", "1000", "--d", "15", "--n-test", "200", "--leaf-size", "300", "--split-sample", "400", "--split-rounds", "2", "--rounds", "3", "--trees", "2", "--seed", "5");
            var settings = TreeFitSettings.Read(dir);
            settings.Leaves.Should().BeGreaterThan(4);
            for (int leaf = 0; leaf < settings.Leaves; leaf++)
            {
                Run(dir, "fit-leaf", "--leaf", leaf.ToString(CultureInfo.InvariantCulture));
            }

            string report = Run(dir, "assemble", "--json");
            var json = JsonDocument.Parse(report.Trim().Split('\n')[^1]).RootElement;
            var distributed = RfmTreeModel<double>.Load(Path.Combine(dir, TreeFitSettings.ModelFile), Backend);

            // The same fit in this process: the synthetic data regenerated from the seed, leaves fitted two at a time.
            var (x, y) = TreeFitSettings.TwoHalves(1000, 15, 5);
            var (xt, yt) = TreeFitSettings.TwoHalves(200, 15, 6);
            var local = new RfmTree(settings.ToOptions(Backend, maxParallelLeaves: 2)).Fit(x, y);

            distributed.Routing.Thresholds.Should().Equal(local.Routing.Thresholds);
            distributed.Leaves.Should().HaveCount(local.Leaves.Count);
            var difference = (distributed.Predict(xt) - local.Predict(xt)).Enumerate().Max(Math.Abs);
            difference.Should().BeLessThanOrEqualTo(1e-12);
            double mse = (local.Predict(xt) - yt).Enumerate().Average(v => v * v);
            json.GetProperty("test_mse").GetDouble().Should().BeApproximately(mse, 1e-12 * mse);
            json.GetProperty("leaves").GetInt32().Should().Be(settings.Leaves);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Runs <c>dotnet TreeFit.dll verb --dir dir args…</c> on the managed backend and returns its standard output.</summary>
    private static string Run(string dir, string verb, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { TreeFitDll, verb, "--dir", dir }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Remove("FEATURELEARNING_BACKEND");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"TreeFit {verb} did not finish in 2 minutes.");
        }

        process.ExitCode.Should().Be(0, $"TreeFit {verb} failed: {stdout}{stderr.Result}");
        return stdout;
    }
}

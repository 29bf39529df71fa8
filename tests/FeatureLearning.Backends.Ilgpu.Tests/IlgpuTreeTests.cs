using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Trees;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Ilgpu.Tests;

public sealed class IlgpuTreeTests
{
    [Fact]
    public void TreeLeavesRunOneAfterAnotherOnTheDeviceAndMatchTheManagedFit()
    {
        using var gpu = new IlgpuBackend();
        using var managed = new ManagedBackend();
        const int n = 160, d = 4;
        var x = Matrix<double>.Build.DenseOfRowMajor(n, d, Random(n, d, 5));
        var y = Matrix<double>.Build.Dense(n, 1, (i, _) => x[i, 0] > 0 ? x[i, 1] * x[i, 2] : x[i, 3]);
        var leaf = new RfmOptions { Kernel = new LaplaceKernel(3), Ridge = 1e-2, Rounds = 2 };
        var options = new RfmTreeOptions
        {
            MaxLeafSize = 50,
            SplitSampleSize = 80,
            SplitRfm = leaf with { Backend = managed, SelectBy = SelectionMetric.Last },
            LeafRfm = leaf with { Backend = gpu },
            MaxParallelLeaves = 4,
            Seed = 2,
        };
        var tree = new RfmTree(options);
        var plan = tree.Plan(x, y);

        // The device peak of the largest leaf alone, then of the whole tree with MaxParallelLeaves = 4: the same, since
        // on a device backend the leaves run one after another (two leaves at once would hold two kernel matrices).
        long leafPeak = 0;
        for (int l = 0; l < plan.LeafCount; l++)
        {
            var rows = plan.LeafRows(l);
            gpu.ResetPeakBytesInUse();
            tree.FitLeaf(l, Matrix<double>.Build.DenseOfRowVectors(rows.Select(x.Row)), Matrix<double>.Build.DenseOfRowVectors(rows.Select(y.Row)));
            leafPeak = Math.Max(leafPeak, gpu.PeakBytesInUse);
        }

        gpu.ResetPeakBytesInUse();
        var onDevice = tree.Fit(x, y);
        gpu.PeakBytesInUse.Should().Be(leafPeak);
        plan.LeafCount.Should().BeGreaterThan(2);

        var onCpu = new RfmTree(options with { LeafRfm = leaf with { Backend = managed } }).Fit(x, y);
        RelativeError(onDevice.Predict(x, managed).ToRowMajorArray(), onCpu.Predict(x).ToRowMajorArray()).Should().BeLessThan(1e-9);
        gpu.BytesInUse.Should().Be(0);
    }
}

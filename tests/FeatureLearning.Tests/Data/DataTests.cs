using FeatureLearning.Compute;
using FeatureLearning.Data;

namespace FeatureLearning.Tests.Data;

public sealed class DataTests
{
    [Fact]
    public void OneHotEncodesAndArgMaxInverts()
    {
        int[] labels = [2, 0, 1, 2];
        var m = OneHot.Encode(labels, 3);
        m.RowSums().Enumerate().Should().OnlyContain(v => v == 1);
        OneHot.ArgMax(m).Should().Equal(labels);
        ((Action)(() => OneHot.Encode([3], 3))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("labels");
        OneHot.Accuracy([1, 2, 3, 4], [1, 2, 0, 4]).Should().Be(0.75);
    }

    [Fact]
    public void SplitIsSeededAndDisjoint()
    {
        var data = LabeledDataSet.LoadCsv(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
        data.Features.ColumnCount.Should().Be(64);
        data.Classes.Should().Be(10);
        var (a1, b1) = data.Split(0.5, seed: 3);
        var (a2, _) = data.Split(0.5, seed: 3);
        var (a3, _) = data.Split(0.5, seed: 4);
        a1.Labels.Should().Equal(a2.Labels);
        a1.Features.Should().Be(a2.Features);
        a1.Features.Should().NotBe(a3.Features);
        (a1.Count + b1.Count).Should().Be(data.Count);
    }

    [Fact]
    public void BackendSelectionByName()
    {
        using var managed = ComputeBackends.Create("Managed");
        managed.Should().BeOfType<ManagedBackend>();
        ((Action)(() => ComputeBackends.Create("cuda-magic"))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("name");
        ((Action)(() => ComputeBackends.Create("native"))).Should().Throw<InvalidOperationException>().WithMessage("*FeatureLearning.Backends.Native*");
    }
}

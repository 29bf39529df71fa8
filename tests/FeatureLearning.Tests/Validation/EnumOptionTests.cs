using FeatureLearning.ConvRfm;
using FeatureLearning.Data;
using FeatureLearning.Diagnostics;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Validation;

/// <summary>Every enum-typed option (and enum argument) rejects values that are not members of its enum, naming the option.</summary>
public sealed class EnumOptionTests
{
    public static TheoryData<string, Action> UndefinedEnums() => new()
    {
        { "Normalization", () => new RecursiveFeatureMachine(new RfmOptions { Normalization = (MetricNormalization)42 }) },
        { "AgopForm", () => new RecursiveFeatureMachine(new RfmOptions { AgopForm = (AgopForm)42 }) },
        { "SelectBy", () => new RecursiveFeatureMachine(new RfmOptions { SelectBy = (SelectionMetric)(-1) }) },
        { "Pairing", () => new ConvolutionalRfm(new ConvRfmOptions { Pairing = (PatchPairing)42 }) },
        { "Normalization", () => new ConvolutionalRfm(new ConvRfmOptions { Normalization = (MetricNormalization)42 }) },
        { "Normalization", () => new DeepConvRfm(new DeepConvRfmOptions { Layers = [new ConvRfmOptions(), new ConvRfmOptions { Normalization = (MetricNormalization)7 }] }) },
        { "operation", () => ModularArithmetic.Create(5, (ModularOperation)42) },
        { "operation", () => GrokkingMeasures.CirculantDeviation(Matrix<double>.Build.DenseIdentity(10), 5, (ModularOperation)42) },
        { "operation", () => GrokkingMeasures.DisplayOrder(5, (ModularOperation)42) },
    };

    [Theory]
    [MemberData(nameof(UndefinedEnums))]
    public void AnUndefinedEnumValueIsRejectedNamingTheOption(string option, Action create)
    {
        var e = create.Should().Throw<ArgumentOutOfRangeException>().Which;
        e.ParamName.Should().Be(option);
        e.Message.Should().Contain("use one of");
    }

    [Fact]
    public void DefinedValuesAreAccepted()
    {
        foreach (var normalization in Enum.GetValues<MetricNormalization>())
        {
            new RfmOptions { Normalization = normalization, AgopForm = AgopForm.Gram, SelectBy = SelectionMetric.Last }.Validate();
            new ConvRfmOptions { Normalization = normalization, Pairing = PatchPairing.Aligned }.Validate();
        }

        ModularArithmetic.Create(5, ModularOperation.Divide).Operation.Should().Be(ModularOperation.Divide);
    }
}

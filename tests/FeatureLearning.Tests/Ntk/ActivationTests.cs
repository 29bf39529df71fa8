using FeatureLearning.Networks;

namespace FeatureLearning.Tests.Ntk;

public sealed class ActivationTests
{
    public static TheoryData<string> All() => new() { "relu", "leaky", "tanh", "erf", "gelu", "quadratic", "linear" };

    internal static Activation Make(string name) => name switch
    {
        "relu" => Activation.Relu,
        "leaky" => Activation.LeakyRelu(0.2),
        "tanh" => Activation.Tanh,
        "erf" => Activation.Erf,
        "gelu" => Activation.Gelu,
        "quadratic" => Activation.Quadratic,
        "linear" => Activation.Linear,
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [Theory]
    [MemberData(nameof(All))]
    public void DerivativesMatchCentralFiniteDifferences(string name)
    {
        var phi = Make(name);
        foreach (double x in new[] { -2.3, -0.7, -0.1, 0.15, 0.9, 1.8 })
        {
            const double h = 1e-5;
            double d1 = (phi.Value(x + h) - phi.Value(x - h)) / (2 * h);
            double d2 = (phi.Derivative(x + h) - phi.Derivative(x - h)) / (2 * h);
            double d3 = (phi.SecondDerivative(x + h) - phi.SecondDerivative(x - h)) / (2 * h);
            phi.Derivative(x).Should().BeApproximately(d1, 1e-8, $"φ′ of {phi.Name} at {x}");
            phi.SecondDerivative(x).Should().BeApproximately(d2, 1e-8, $"φ″ of {phi.Name} at {x}");
            phi.ThirdDerivative(x).Should().BeApproximately(d3, 1e-8, $"φ‴ of {phi.Name} at {x}");
            phi.AllDerivatives(x, out double a0, out double a1, out double a2, out double a3);
            a0.Should().BeApproximately(phi.Value(x), 1e-15);
            a1.Should().BeApproximately(phi.Derivative(x), 1e-15);
            a2.Should().BeApproximately(phi.SecondDerivative(x), 1e-15);
            a3.Should().BeApproximately(phi.ThirdDerivative(x), 1e-15);
        }
    }

    [Fact]
    public void ValuesAreTheDefinitions()
    {
        Activation.Relu.Value(-1.5).Should().Be(0);
        Activation.Relu.Value(1.5).Should().Be(1.5);
        Activation.LeakyRelu(0.1).Value(-2).Should().BeApproximately(-0.2, 1e-15);
        Activation.Tanh.Value(0.5).Should().BeApproximately(Math.Tanh(0.5), 1e-15);
        Activation.Erf.Value(1).Should().BeApproximately(0.8427007929497149, 1e-15); // erf(1), tabulated
        Activation.Gelu.Value(1).Should().BeApproximately(0.8413447460685429, 1e-15); // Φ(1), tabulated
        Activation.Quadratic.Value(-3).Should().Be(9);
        Activation.Linear.Value(-3).Should().Be(-3);
    }

    [Fact]
    public void InvalidActivationsAreRejectedByName()
    {
        ((Action)(() => Activation.LeakyRelu(double.NaN).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Slope");
        ((Action)(() => new Activation((ActivationKind)42).Validate())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Kind");
    }
}

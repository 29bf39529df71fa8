using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// The network activation primitive: φ, φ′ and φ″ of every activation against the double-precision scalars of
/// <see cref="Activation"/>, in place and out of place, on a row view, and its error contract.
/// </summary>
public abstract partial class BackendConformanceTests
{
    public static TheoryData<ActivationKind, int> ActivationCases()
    {
        var data = new TheoryData<ActivationKind, int>();
        foreach (var kind in Enum.GetValues<ActivationKind>())
        {
            for (int order = 0; order <= 2; order++)
            {
                data.Add(kind, order);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(ActivationCases))]
    public void ApplyActivationMatchesTheScalars(ActivationKind kind, int order)
    {
        var activation = new Activation(kind, kind == ActivationKind.LeakyRelu ? 0.2 : 0);
        CheckActivation<double>(activation, order);
        CheckActivation<float>(activation, order);
    }

    private void CheckActivation<T>(Activation activation, int order)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 37 × 11 values in (−7, 7): both signs, the erf series and its ±1 tail, GELU's small left tail.
        const int rows = 37, cols = 11;
        var x = Cast<T>(Random(rows, cols, 41, 7.0));
        var expected = ToDouble(x).Select(v => order == 0 ? activation.Value(v) : order == 1 ? activation.Derivative(v) : activation.SecondDerivative(v)).ToArray();
        using var input = Backend.Upload<T>(x, rows, cols);
        using var output = Backend.Allocate<T>(rows, cols);
        Backend.ApplyActivation(activation, order, input, output);
        RelativeError(Download(Backend, output), expected).Should().BeLessThan(Tolerance<T>(), $"{activation} order {order} ({typeof(T).Name})");
        Download(Backend, input).Should().Equal(ToDouble(x), "the input is not modified");

        // In place on a row view: only the view's rows change.
        using var view = input.RowRange(5, 20);
        Backend.ApplyActivation(activation, order, view, view);
        var after = Download(Backend, input);
        RelativeError(after.Skip(5 * cols).Take(20 * cols).ToArray(), expected.Skip(5 * cols).Take(20 * cols).ToArray()).Should().BeLessThan(Tolerance<T>());
        after.Take(5 * cols).Should().Equal(ToDouble(x).Take(5 * cols));
        after.Skip(25 * cols).Should().Equal(ToDouble(x).Skip(25 * cols));
    }

    [SkippableFact]
    public void ApplyActivationRejectsBadArguments()
    {
        using var a = Backend.Allocate<double>(3, 4);
        using var b = Backend.Allocate<double>(4, 3);
        Backend.Scale(0.0, a);
        var relu = Activation.Relu;
        FluentActions.Invoking(() => Backend.ApplyActivation(relu, 3, a, a)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("derivativeOrder");
        FluentActions.Invoking(() => Backend.ApplyActivation(relu, -1, a, a)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("derivativeOrder");
        FluentActions.Invoking(() => Backend.ApplyActivation(relu, 0, a, b)).Should().Throw<ArgumentException>().WithParameterName("output");
        FluentActions.Invoking(() => Backend.ApplyActivation(new Activation((ActivationKind)42), 0, a, a)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Kind");
    }
}

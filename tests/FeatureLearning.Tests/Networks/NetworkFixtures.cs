using FeatureLearning.Compute;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Networks;

/// <summary>Tiny networks, seeded data and central finite differences in double precision.</summary>
internal static class NetworkFixtures
{
    public const double Step = 1e-5;

    public static readonly int[][] Depths = [[4], [4, 3], [3, 4, 3]];

    public static NetworkArchitecture Architecture(Activation activation, Parameterization parameterization, int[] widths, int d = 3, int c = 2, double outputScale = 0.7) => new()
    {
        InputDimension = d,
        HiddenWidths = widths,
        OutputDimension = c,
        Activation = activation,
        Parameterization = parameterization,
        WeightStd = 1.3,
        BiasStd = 0.4,
        OutputScale = outputScale,
    };

    public static Activation ActivationOf(ActivationKind kind) => new(kind, kind == ActivationKind.LeakyRelu ? 0.2 : 0);

    public static Matrix<double> Inputs(int n, int d, int seed) => Matrix<double>.Build.DenseOfRowMajor(n, d, TestMatrices.Random(n, d, seed, 1.5));

    /// <summary>Regression targets, or one-hot rows for the cross-entropy.</summary>
    public static Matrix<double> Targets(int n, int c, int seed, bool oneHot)
    {
        if (!oneHot)
        {
            return Matrix<double>.Build.DenseOfRowMajor(n, c, TestMatrices.Random(n, c, seed));
        }

        var rng = new Random(seed);
        var y = Matrix<double>.Build.Dense(n, c);
        for (int i = 0; i < n; i++)
        {
            y[i, rng.Next(c)] = 1;
        }

        return y;
    }

    public static Vector<double> Direction(int p, int seed) => Vector<double>.Build.DenseOfArray(TestMatrices.Random(p, 1, seed));

    /// <summary>Central differences (g(w + h·e) − g(w − h·e))/2h of a vector function of the parameters, along e.</summary>
    public static Vector<double> Directional(FullyConnectedNetwork<double> network, Vector<double> direction, Func<FullyConnectedNetwork<double>, Vector<double>> g)
    {
        var w = network.GetParameters();
        network.SetParameters(w + (Step * direction));
        var plus = g(network);
        network.SetParameters(w - (Step * direction));
        var minus = g(network);
        network.SetParameters(w);
        return (plus - minus) / (2 * Step);
    }

    /// <summary>The gradient of a scalar function of the parameters by central differences, coordinate by coordinate.</summary>
    public static Vector<double> Gradient(FullyConnectedNetwork<double> network, Func<FullyConnectedNetwork<double>, double> f)
    {
        int p = network.ParameterCount;
        var result = Vector<double>.Build.Dense(p);
        for (int j = 0; j < p; j++)
        {
            var e = Vector<double>.Build.Dense(p);
            e[j] = 1;
            result[j] = Directional(network, e, net => Vector<double>.Build.Dense(1, f(net)))[0];
        }

        return result;
    }

    /// <summary>max |a − b| / max(max |b|, 1e-12).</summary>
    public static double RelativeError(Vector<double> actual, Vector<double> expected) =>
        (actual - expected).InfinityNorm() / Math.Max(expected.InfinityNorm(), 1e-12);

    public static double RelativeError(Matrix<double> actual, Matrix<double> expected) =>
        RelativeError(Vector<double>.Build.DenseOfArray(actual.ToRowMajorArray()), Vector<double>.Build.DenseOfArray(expected.ToRowMajorArray()));

    /// <summary>The pre-activations of every hidden layer (for the piecewise-linear activations the tests keep them away from the kink).</summary>
    public static IEnumerable<double> PreActivations(FullyConnectedNetwork<double> network, Matrix<double> x) =>
        network.Forward(x).PreActivations.SkipLast(1).SelectMany(z => z.ToRowMajorArray());

    /// <summary>The network of the first <paramref name="layers"/> layers (readout = layer layers − 1, unscaled), on the same backend.</summary>
    public static FullyConnectedNetwork<double> Head(FullyConnectedNetwork<double> network, int layers)
    {
        var a = network.Architecture;
        var arch = a with { HiddenWidths = a.HiddenWidths.Take(layers - 1).ToArray(), OutputDimension = a.FanOut(layers - 1), OutputScale = 1 };
        var w = network.GetParameters();
        return FullyConnectedNetwork<double>.FromParameters(arch, w.SubVector(0, arch.ParameterCount), network.Backend);
    }

    /// <summary>The network of layers <paramref name="first"/> … L (input h_first), on the same backend.</summary>
    public static FullyConnectedNetwork<double> Tail(FullyConnectedNetwork<double> network, int first)
    {
        var a = network.Architecture;
        var arch = a with { InputDimension = a.FanIn(first), HiddenWidths = a.HiddenWidths.Skip(first).ToArray() };
        var w = network.GetParameters();
        return FullyConnectedNetwork<double>.FromParameters(arch, w.SubVector(w.Count - arch.ParameterCount, arch.ParameterCount), network.Backend);
    }

    public static IComputeBackend Backend => ComputeBackends.Default;
}

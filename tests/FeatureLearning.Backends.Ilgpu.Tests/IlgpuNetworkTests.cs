using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using FeatureLearning.Ntk;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>
/// A network on the ILGPU backend agrees with the same network on the managed backend: forward pass, loss gradients, JVP,
/// VJP, the explicit Jacobian, HVPs of the loss and of the output, input gradients and the empirical NTK (1e-10 relative in double, 1e-4 in
/// float). Tiny shapes: on a machine without a GPU the kernels run on ILGPU's CPU accelerator.
/// </summary>
public sealed class IlgpuNetworkTests : IDisposable
{
    private const int N = 4, D = 3, C = 2;
    private readonly IlgpuBackend ilgpu = new();
    private readonly ManagedBackend managed = new();

    public static TheoryData<ActivationKind> Activations()
    {
        // The network code is the same for every activation; only ApplyActivation differs, and the backend conformance
        // suite checks it on the device for every activation and derivative order. So the whole network runs here for one
        // kinked and one smooth activation (each case costs about a minute on ILGPU's CPU accelerator).
        return new TheoryData<ActivationKind> { ActivationKind.Relu, ActivationKind.Tanh };
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void EveryNetworkOperationMatchesTheManagedBackend(ActivationKind kind)
    {
        var arch = new NetworkArchitecture
        {
            InputDimension = D,
            HiddenWidths = [4, 3],
            OutputDimension = C,
            Activation = new Activation(kind, kind == ActivationKind.LeakyRelu ? 0.2 : 0),
            Parameterization = kind == ActivationKind.Tanh ? Parameterization.Standard : Parameterization.Ntk,
            BiasStd = 0.3,
            OutputScale = 0.8,
        };
        Compare<double>(arch);
        Compare<float>(arch);
    }

    [Fact]
    public void TheDeviceErfSeriesIsAccurateToTheDocumentedTolerance()
    {
        // The device has no erf intrinsic; the series of ActivationKernel must match MathNet's erf to about 1e-14 absolute.
        double worst = 0;
        for (double x = -8; x <= 8; x += 0.001953125)
        {
            worst = Math.Max(worst, Math.Abs(ActivationKernel.Erf(x) - SpecialFunctions.Erf(x)));
        }

        worst.Should().BeLessThan(1e-14);
    }

    public void Dispose()
    {
        ilgpu.Dispose();
        managed.Dispose();
    }

    private void Compare<T>(NetworkArchitecture arch)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double tolerance = Tolerance<T>();
        using var reference = FullyConnectedNetwork<T>.Create(arch, seed: 3, backend: managed);
        using var device = FullyConnectedNetwork<T>.FromParameters(arch, reference.GetParameters(), ilgpu);
        var x = HostMatrix<T>(N, D, 5, 1.5);
        var y = HostMatrix<T>(N, C, 6, 1);
        var onehot = Matrix<T>.Build.Dense(N, C, (i, k) => (i + k) % C == 0 ? T.One : T.Zero);
        var u = HostMatrix<T>(N, C, 7, 1);
        var v = Vector<T>.Build.DenseOfArray(Cast<T>(Random(reference.ParameterCount, 1, 8)));

        Close(device.Predict(x), reference.Predict(x), tolerance, "forward");
        foreach (var (loss, targets) in new[] { (NetworkLoss.MeanSquaredError, y), (NetworkLoss.SoftmaxCrossEntropy, onehot) })
        {
            var g = device.LossGradient(x, targets, loss);
            var r = reference.LossGradient(x, targets, loss);
            g.Loss.Should().BeApproximately(r.Loss, tolerance * (1 + Math.Abs(r.Loss)));
            Close(g.Gradient, r.Gradient, tolerance, $"{loss} gradient");
            Close(device.LossHessianVectorProduct(x, targets, loss, v), reference.LossHessianVectorProduct(x, targets, loss, v), tolerance, $"{loss} HVP");
        }

        Close(device.JacobianVectorProduct(x, v), reference.JacobianVectorProduct(x, v), tolerance, "JVP");
        Close(device.VectorJacobianProduct(x, u), reference.VectorJacobianProduct(x, u), tolerance, "VJP");
        Close(device.Jacobian(x), reference.Jacobian(x), tolerance, "Jacobian");
        Close(device.OutputHessianVectorProduct(x, u, v), reference.OutputHessianVectorProduct(x, u, v), tolerance, "output HVP");
        var gd = device.LayerInputGradients(x, 1);
        var gr = reference.LayerInputGradients(x, 1);
        for (int k = 0; k < C; k++)
        {
            Close(gd[k], gr[k], tolerance, "layer-input gradient");
        }

        // The empirical NTK: per output and traced, X ≠ Z and X = Z, in blocks, and into a device buffer.
        var z = HostMatrix<T>(N + 1, D, 9, 1.5);
        foreach (var mode in Enum.GetValues<EmpiricalNtkMode>())
        {
            var options = new EmpiricalNtkOptions { Mode = mode, BlockSize = 3 };
            var expected = EmpiricalNtk.Compute(reference, x, z, options);
            Close(EmpiricalNtk.Compute(device, x, z, options), expected, tolerance, $"empirical NTK, {mode}");
            Close(EmpiricalNtk.Compute(device, x, null, options), EmpiricalNtk.Compute(reference, x, null, options), tolerance, $"empirical NTK of X, {mode}");
            using var dx = ilgpu.Upload<T>(x.ToRowMajorArray(), N, D);
            using var dz = ilgpu.Upload<T>(z.ToRowMajorArray(), N + 1, D);
            using var result = ilgpu.Allocate<T>(expected.RowCount, expected.ColumnCount);
            EmpiricalNtk.Compute(device, dx, dz, result, options);
            var host = new T[result.Length];
            ilgpu.Download(result, host);
            Close(Matrix<T>.Build.DenseOfRowMajor(result.Rows, result.Cols, host), expected, tolerance, $"empirical NTK on the device, {mode}");
        }
    }

    private static Matrix<T> HostMatrix<T>(int rows, int cols, int seed, double scale)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => Matrix<T>.Build.DenseOfRowMajor(rows, cols, Cast<T>(Random(rows, cols, seed, scale)));

    private static void Close<T>(Matrix<T> actual, Matrix<T> expected, double tolerance, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        RelativeError(ToDouble(actual.ToRowMajorArray()), ToDouble(expected.ToRowMajorArray())).Should().BeLessThan(tolerance, $"{what} ({typeof(T).Name})");

    private static void Close<T>(Vector<T> actual, Vector<T> expected, double tolerance, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        RelativeError(ToDouble(actual.ToArray()), ToDouble(expected.ToArray())).Should().BeLessThan(tolerance, $"{what} ({typeof(T).Name})");
}

using System.Collections.Concurrent;
using System.Numerics;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>The network activation primitive: one grid-stride device kernel per element type (see <see cref="ActivationKernel"/>).</content>
public sealed partial class IlgpuBackend
{
    private readonly ConcurrentDictionary<Type, Delegate> activationKernels = new();

    /// <inheritdoc />
    /// <remarks>On the device, in double precision; erf (and GELU) by a series accurate to about 1e-14 absolute (see the
    /// remarks of the interface method).</remarks>
    public void ApplyActivation<T>(Networks.Activation activation, int derivativeOrder, DeviceBuffer<T> input, DeviceBuffer<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (gi, go) = (Own(input, nameof(input)), Own(output, nameof(output)));
        ActivationOperands.Check(activation, derivativeOrder, input, output);
        long length = gi.LongLength;
        if (length == 0)
        {
            return;
        }

        using var exclusive = Enter();
        using var launch = clock.Launch();
        int threads = (int)Math.Max(1, Math.Min(length, Kernels<T>().StrideThreads));
        ActivationLauncher<T>()(threads, gi.View, go.View, gi.Cols, gi.LeadingDimension, go.LeadingDimension, (int)activation.Kind, activation.Slope, derivativeOrder, length, threads);
    }

    private Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int, double, int, long, int> ActivationLauncher<T>()
        where T : unmanaged =>
        (Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int, double, int, long, int>)activationKernels.GetOrAdd(
            typeof(T),
            _ => clock.Compile<Delegate>(() => typeof(T) == typeof(double)
                ? accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, int, int, int, double, int, long, int>(ActivationKernel.Apply<double, DoubleOps>)
                : accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, double, int, long, int>(ActivationKernel.Apply<float, SingleOps>)));
}

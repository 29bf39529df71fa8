using FeatureLearning.Kernels;

namespace FeatureLearning.Backends.Ilgpu.Device;

/// <summary>The scalar kernel profile k(u) and ∂k/∂u as a device functor.</summary>
internal interface IDeviceProfile
{
    double Value(double u);

    double Derivative(double u);
}

/// <summary>
/// Any kernel value type of the library (or a user's) on the device: its <see cref="IKernelFunction.Value"/> and
/// <see cref="IKernelFunction.Derivative"/> are compiled into the kernel-matrix kernel, one specialization per kernel
/// type, from one kernel source.
/// </summary>
/// <typeparam name="TKernel">The kernel struct.</typeparam>
internal readonly struct KernelProfile<TKernel> : IDeviceProfile
    where TKernel : struct, IKernelFunction
{
    private readonly TKernel kernel;

    public KernelProfile(TKernel kernel) => this.kernel = kernel;

    public double Value(double u) => kernel.Value(u);

    public double Derivative(double u) => kernel.Derivative(u);
}

/// <summary>The statistic itself (k(u) = u): used when a kernel cannot be compiled for the device and is evaluated on the host.</summary>
internal readonly struct RawStatistic : IDeviceProfile
{
    public double Value(double u) => u;

    public double Derivative(double u) => u;
}

using System.Numerics;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Kernels;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// The kernel-matrix epilogue on the device, as a kernel visitor: <see cref="IKernelFunction.Accept"/> calls
/// <see cref="Visit{TKernel}"/> with the kernel's own struct type, which compiles (once per type and accelerator, in
/// <see cref="KernelSet{T}"/>) and launches the epilogue specialized for <see cref="KernelProfile{TKernel}"/>. No reflection
/// is involved, so the launch is trimming- and AOT-safe. A kernel that does not accept visitors (a class, or a user's struct
/// that keeps the default <see cref="IKernelFunction.Accept"/>), or whose profile ILGPU cannot compile, leaves
/// <see cref="Launched"/> false, and the backend evaluates the profile on the host.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <param name="kernels">The device kernels of the element type.</param>
/// <param name="n">Rows of the kernel matrix.</param>
/// <param name="m">Columns of the kernel matrix.</param>
/// <param name="g">The Gram matrix XMZᵀ in, the kernel matrix out.</param>
/// <param name="xNorms">x_iᵀMx_i (radial kernels).</param>
/// <param name="zNorms">z_jᵀMz_j (radial kernels).</param>
/// <param name="weights">∂k/∂u out, or null.</param>
/// <param name="radial">Whether the statistic is the squared distance.</param>
/// <param name="tolerance">Relative level below which a squared distance is taken as 0.</param>
internal sealed class DeviceEpilogue<T>(KernelSet<T> kernels, int n, int m, IlgpuBuffer<T> g, IlgpuBuffer<T> xNorms, IlgpuBuffer<T> zNorms, IlgpuBuffer<T>? weights, bool radial, double tolerance) : IKernelVisitor
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether the epilogue ran on the device.</summary>
    public bool Launched { get; private set; }

    /// <inheritdoc />
    public void Visit<TKernel>(in TKernel kernel)
        where TKernel : struct, IKernelFunction
    {
        if (!kernels.TryLoadEpilogue<KernelProfile<TKernel>>())
        {
            return;
        }

        kernels.KernelEpilogue(n, m, g.View, xNorms.View, zNorms.View, (weights ?? g).View, radial, weights is not null, tolerance, new KernelProfile<TKernel>(kernel));
        Launched = true;
    }
}

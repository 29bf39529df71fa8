namespace FeatureLearning.Kernels;

/// <summary>
/// An operation that needs a kernel's concrete value type at compile time, such as a GPU backend compiling the kernel's
/// profile into a device kernel. <see cref="IKernelFunction.Accept"/> calls <see cref="Visit{TKernel}"/> with the kernel
/// struct itself, so the operation is specialized for the kernel type without reflection (no
/// <c>MethodInfo.MakeGenericMethod</c>): it works under trimming and Native AOT.
/// </summary>
/// <remarks>
/// A kernel that does not implement <see cref="IKernelFunction.Accept"/> (a class, or a user's struct that leaves the
/// default) never calls the visitor; the caller then takes its general path (a backend evaluates the kernel through
/// its span methods on the host).
/// </remarks>
public interface IKernelVisitor
{
    /// <summary>Runs the operation for the kernel struct <typeparamref name="TKernel"/>.</summary>
    /// <typeparam name="TKernel">The kernel's own type.</typeparam>
    /// <param name="kernel">The kernel.</param>
    void Visit<TKernel>(in TKernel kernel)
        where TKernel : struct, IKernelFunction;
}

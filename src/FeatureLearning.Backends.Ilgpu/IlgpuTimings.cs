using System.Globalization;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// Where an <see cref="IlgpuBackend"/>'s time went since it was created or <see cref="IlgpuBackend.ResetTimings"/> was
/// called (<see cref="IlgpuBackend.Timings"/>): kernel compilation, host copies, kernel launches and vendor-library calls,
/// and the wait for the device.
/// </summary>
/// <remarks>
/// GPU work is asynchronous: a launch returns as soon as it is queued, and the device's compute time surfaces wherever the
/// host next waits, usually in the next download. With <see cref="IlgpuBackend.SplitTimings"/> off (the default) the
/// counters cost nothing measurable, <see cref="ComputeSeconds"/> stays zero and <see cref="TransferSeconds"/> includes
/// the wait for the work queued before each copy. With it on, the backend synchronizes after every launch and before every
/// copy and counts those waits as <see cref="ComputeSeconds"/>, so the four parts are disjoint; the synchronizations
/// remove the overlap of host and device work, so the total grows a little. Host time outside the backend (the
/// algorithm's own host code, the JIT) is the wall time minus <see cref="BackendSeconds"/>.
/// </remarks>
public sealed record IlgpuTimings
{
    /// <summary>Seconds spent compiling device kernels (ILGPU's compiler and the driver's, on the first use of each kernel).</summary>
    public double CompileSeconds { get; init; }

    /// <summary>Kernels compiled.</summary>
    public long KernelsCompiled { get; init; }

    /// <summary>ILGPU kernel launches.</summary>
    public long Launches { get; init; }

    /// <summary>cuBLAS and cuSOLVER calls (each may launch several device kernels of its own).</summary>
    public long LibraryCalls { get; init; }

    /// <summary>Host seconds spent issuing launches and library calls (compilation excluded).</summary>
    public double LaunchSeconds { get; init; }

    /// <summary>Seconds spent waiting for the device after launches and before copies; zero unless <see cref="Split"/>.</summary>
    public double ComputeSeconds { get; init; }

    /// <summary>Host-device copies (uploads and downloads).</summary>
    public long Transfers { get; init; }

    /// <summary>Bytes copied between host and device.</summary>
    public long TransferBytes { get; init; }

    /// <summary>Seconds spent in host-device copies (with <see cref="Split"/> off, including the wait for queued work).</summary>
    public double TransferSeconds { get; init; }

    /// <summary>Whether split timings were on when the counters were read.</summary>
    public bool Split { get; init; }

    /// <summary>Compilation, launches, compute and transfers together: the time the backend accounts for.</summary>
    public double BackendSeconds => CompileSeconds + LaunchSeconds + ComputeSeconds + TransferSeconds;

    /// <summary>The counters as one JSON object (seconds, counts and bytes), for logs and benchmark lines.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => string.Create(
        CultureInfo.InvariantCulture,
        $"{{\"compile_seconds\":{CompileSeconds:R},\"kernels_compiled\":{KernelsCompiled},\"launches\":{Launches},\"library_calls\":{LibraryCalls},\"launch_seconds\":{LaunchSeconds:R},\"compute_seconds\":{ComputeSeconds:R},\"transfers\":{Transfers},\"transfer_bytes\":{TransferBytes},\"transfer_seconds\":{TransferSeconds:R},\"split\":{(Split ? "true" : "false")}}}");

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"compile {CompileSeconds:F3} s ({KernelsCompiled} kernels), launches {LaunchSeconds:F3} s ({Launches} kernels, {LibraryCalls} library calls), compute {ComputeSeconds:F3} s{(Split ? string.Empty : " (not split)")}, transfers {TransferSeconds:F3} s ({Transfers} copies, {TransferBytes / 1048576.0:F1} MiB)");
}

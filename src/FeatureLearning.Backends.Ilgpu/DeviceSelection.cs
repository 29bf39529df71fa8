using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// Device discovery and selection for <see cref="IlgpuBackend"/>: the devices ILGPU is asked for, the choice made by the
/// options or the <see cref="IlgpuBackendOptions.DeviceVariable"/> environment variable, and the CUDA SDK's libdevice.
/// </summary>
internal static class DeviceSelection
{
    /// <summary>
    /// Adds the devices the backend considers: CUDA, OpenCL, and ILGPU's CPU accelerator, which emulates groups of up to
    /// 256 threads (the GEMM's 16 × 16) on one simulated multiprocessor.
    /// </summary>
    /// <param name="builder">The context builder.</param>
    /// <returns>The builder.</returns>
    public static Context.Builder AddDevices(Context.Builder builder) => builder.Cuda().OpenCL().CPU(new CPUDevice(4, 64, 1));

    /// <summary>The devices ILGPU sees here, one line each.</summary>
    /// <returns>The device descriptions.</returns>
    public static IReadOnlyList<string> List()
    {
        using var context = Context.Create(builder => AddDevices(builder));
        return context.Devices.Select((d, i) => $"{d.AcceleratorType} '{d.Name}', {d.MemorySize / (double)(1L << 30):F1} GiB").ToList();
    }

    /// <summary>The library's name for the kind of an accelerator.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <returns>Its kind.</returns>
    public static IlgpuDevice KindOf(Accelerator accelerator) => accelerator.AcceleratorType switch
    {
        AcceleratorType.Cuda => IlgpuDevice.Cuda,
        AcceleratorType.OpenCL => IlgpuDevice.OpenCL,
        _ => IlgpuDevice.Cpu,
    };

    /// <summary>
    /// The CUDA SDK's NVVM library and libdevice bitcode, if an SDK is installed (CUDA_PATH, CUDA_HOME, /usr/local/cuda,
    /// /usr/local/cuda-*); <c>FEATURELEARNING_LIBDEVICE=0</c> turns it off.
    /// </summary>
    public static (string Nvvm, string LibDevice)? FindLibDevice()
    {
        if (Environment.GetEnvironmentVariable("FEATURELEARNING_LIBDEVICE") == "0")
        {
            return null; // ILGPU.Algorithms' portable math everywhere (for comparisons)
        }

        var roots = new[] { Environment.GetEnvironmentVariable("CUDA_PATH"), Environment.GetEnvironmentVariable("CUDA_HOME"), "/usr/local/cuda" }
            .Where(r => !string.IsNullOrEmpty(r))
            .Concat(Directory.Exists("/usr/local") ? Directory.GetDirectories("/usr/local", "cuda-*").OrderDescending() : []);
        foreach (string? root in roots)
        {
            string nvvmDir = Path.Combine(root!, "nvvm", "lib64"), bitcodeDir = Path.Combine(root!, "nvvm", "libdevice");
            if (!Directory.Exists(nvvmDir) || !Directory.Exists(bitcodeDir))
            {
                continue;
            }

            string? nvvm = Directory.GetFiles(nvvmDir, "libnvvm.so*").Concat(Directory.GetFiles(nvvmDir, "nvvm64*.dll")).Order().FirstOrDefault();
            string? bitcode = Directory.GetFiles(bitcodeDir, "libdevice*.bc").Order().FirstOrDefault();
            if (nvvm is not null && bitcode is not null)
            {
                return (nvvm, bitcode);
            }
        }

        return null;
    }

    /// <summary>
    /// The device the options ask for; with <see cref="IlgpuDevice.Auto"/>, the one the
    /// <see cref="IlgpuBackendOptions.DeviceVariable"/> environment variable names (<c>cuda</c>, <c>opencl</c> or <c>cpu</c>,
    /// optionally with <c>:index</c>), else Auto.
    /// </summary>
    /// <param name="options">The backend's options.</param>
    /// <returns>The kind and index of the device.</returns>
    /// <exception cref="InvalidOperationException">The variable is not a device.</exception>
    public static (IlgpuDevice Kind, int Index) Resolve(IlgpuBackendOptions options)
    {
        if (options.Device != IlgpuDevice.Auto)
        {
            return (options.Device, options.DeviceIndex);
        }

        string? value = Environment.GetEnvironmentVariable(IlgpuBackendOptions.DeviceVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return (IlgpuDevice.Auto, options.DeviceIndex);
        }

        string[] parts = value.Trim().Split(':');
        var kind = parts[0].ToUpperInvariant() switch
        {
            "CUDA" => IlgpuDevice.Cuda,
            "OPENCL" => IlgpuDevice.OpenCL,
            "CPU" => IlgpuDevice.Cpu,
            "AUTO" => IlgpuDevice.Auto,
            _ => throw new InvalidOperationException($"{IlgpuBackendOptions.DeviceVariable}='{value}' is not a device: use cuda, opencl or cpu, optionally with :index."),
        };
        int index = options.DeviceIndex;
        if (parts.Length > 1 && (!int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out index) || index < 0))
        {
            throw new InvalidOperationException($"{IlgpuBackendOptions.DeviceVariable}='{value}': the device index must be a non-negative integer.");
        }

        return (kind, index);
    }

    /// <summary>Creates the accelerator for the device; Auto takes CUDA, then OpenCL, then the CPU accelerator.</summary>
    /// <param name="context">The ILGPU context.</param>
    /// <param name="kind">The kind of device.</param>
    /// <param name="index">Its index among the devices of that kind.</param>
    /// <returns>The accelerator.</returns>
    /// <exception cref="InvalidOperationException">No such device.</exception>
    public static Accelerator CreateAccelerator(Context context, IlgpuDevice kind, int index)
    {
        var cudaDevices = context.GetCudaDevices();
        var clDevices = context.GetCLDevices();
        switch (kind)
        {
            case IlgpuDevice.Cuda:
                return index < cudaDevices.Count ? cudaDevices[index].CreateAccelerator(context)
                    : throw new InvalidOperationException($"No CUDA device {index}: ILGPU found {cudaDevices.Count} (is the NVIDIA driver installed?). Devices here: {string.Join("; ", context.Devices.Select(d => $"{d.AcceleratorType} '{d.Name}'"))}.");
            case IlgpuDevice.OpenCL:
                return index < clDevices.Count ? clDevices[index].CreateAccelerator(context)
                    : throw new InvalidOperationException($"No OpenCL device {index}: ILGPU found {clDevices.Count} it supports (it needs OpenCL 2.0+ with the generic address space; Debian's PoCL 3.1 is refused).");
            case IlgpuDevice.Cpu:
                return context.GetCPUDevice(0).CreateAccelerator(context);
            default:
                if (cudaDevices.Count > index)
                {
                    return cudaDevices[index].CreateAccelerator(context);
                }

                return clDevices.Count > index ? clDevices[index].CreateAccelerator(context) : context.GetCPUDevice(0).CreateAccelerator(context);
        }
    }
}

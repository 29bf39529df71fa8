using System.Numerics;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The memory a ConvRFM fit will allocate, estimated from the shapes before anything is allocated, and the check of that
/// estimate against <see cref="ConvRfmOptions.MemoryBudgetBytes"/>.
/// </summary>
/// <remarks>
/// Counted (elements of <c>sizeof(T)</c> bytes, T the precision of the fit): the im2col patches of the training, validation
/// and AGOP-sample images (n·P·d each) on the host and again on the device, where they stay for the whole fit (the all-pairs form also keeps a host image-major copy),
/// the n × n kernel matrix (on the device only; the aligned form also holds an n × n scratch matrix), the (n·P) × c spread
/// coefficients of the all-pairs AGOP, and the largest transient block: for all pairs the kernel block of at least one image's P patch
/// rows against all n·P centre patches (P·n·P elements however small <see cref="ConvRfmOptions.MaxBlockElements"/> is) and
/// the AGOP's three row blocks of the n·P derivative weights; for the aligned form the m × n and n × n scratch matrices.
/// Small terms (coefficients, d × d metrics) are left out, so the estimate is a lower bound of the peak. A float fit counts
/// 4 bytes an element, since every buffer it keeps is float; the double patches it cuts before converting them (one image
/// set at a time, dropped once converted) are transient and not counted.
/// </remarks>
internal static class ConvRfmMemory
{
    /// <summary>Bytes one ConvRFM fit allocates (see the remarks), as a double so that no shape overflows it.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the fit, whose size each element has.</typeparam>
    /// <param name="layout">The patch layout.</param>
    /// <param name="options">The options (pairing, block bound, AGOP sample).</param>
    /// <param name="n">Training images.</param>
    /// <param name="c">Outputs.</param>
    /// <param name="m">Validation images (0 for none).</param>
    public static double FitBytes<T>(PatchLayout layout, ConvRfmOptions options, int n, int c, int m)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double p = (double)layout.OutputHeight * layout.OutputWidth, d = layout.Dimension, block = options.MaxBlockElements;
        double s = options.AgopSampleSize is { } size && size < n ? size : 0;
        double centres = n * p;

        // The AGOP's derivative weights are twice as wide for a kernel of the inner product and the norms ([∂κ/∂u | ∂κ/∂a]).
        double weights = options.Kernel.Geometry == Kernels.KernelGeometry.InnerProductAndNorms ? 2 : 1;
        double elements;
        if (options.Pairing == PatchPairing.AllPairs)
        {
            // Per-position and image-major patches (train, validation, sample) on the host, image-major on the device; K (device
            // only: kernel blocks are reduced into its rows in place); the spread coefficients.
            elements = (3 * (n + m + s) * p * d) + ((double)n * n) + (centres * c);
            double KernelBlock(double images) => Math.Clamp(Math.Floor(block / (centres * p)), 1, Math.Max(1, images)) * p * (centres + n);
            double agopRows = Math.Clamp(Math.Floor(block / centres), 1, (s > 0 ? s : n) * p);
            elements += Math.Max(Math.Max(KernelBlock(n), KernelBlock(m)), (2 + weights) * agopRows * centres);
        }
        else
        {
            // Per-position patches (train, validation, sample) on the host and on the device.
            elements = (2 * (n + m + s) * p * d) + (2.0 * n * n) + (2.0 * m * n) + ((1 + weights) * (s > 0 ? s : n) * n);
        }

        return elements * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }

    /// <summary>The budget of <paramref name="options"/>: <see cref="ConvRfmOptions.MemoryBudgetBytes"/>, or half the memory available to the garbage collector.</summary>
    public static long Budget(ConvRfmOptions options) => options.MemoryBudgetBytes ?? (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);

    /// <summary>Throws <see cref="InsufficientMemoryException"/> stating the estimate and the budget when <paramref name="bytes"/> exceeds the budget.</summary>
    /// <param name="bytes">The estimate.</param>
    /// <param name="options">The options carrying the budget.</param>
    /// <param name="what">What the estimate is of, for the message.</param>
    public static void Check(double bytes, ConvRfmOptions options, string what)
    {
        long budget = Budget(options);
        if (bytes > budget)
        {
            throw new InsufficientMemoryException(
                $"{what} would allocate an estimated {Format(bytes)} ({bytes:0} bytes), above the memory budget of {Format(budget)} ({budget} bytes, ConvRfmOptions.MemoryBudgetBytes). " +
                "Use less padding, a larger stride or smaller images, fewer images or an AGOP sample, the aligned pairing, or raise MemoryBudgetBytes.");
        }
    }

    /// <summary>Bytes in binary units, e.g. <c>9.4 GiB</c>.</summary>
    public static string Format(double bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1)
        {
            bytes /= 1024;
            u++;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes:0.#} {units[u]}");
    }
}

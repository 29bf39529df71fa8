using System.Globalization;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// The cache blocking of the managed GEMM (<see cref="PackedGemm{T}"/>): the depth KC of a packed block, the rows MC of an A
/// block and the columns NC of a B block, chosen for the CPU it runs on from its L1 data cache.
/// </summary>
/// <remarks>
/// <para>Each work item packs one MR × KC micro-panel of A (MC = MR), which stays in the L1 data cache while the item sweeps the
/// KC × NR micro-panels of the packed B block, streamed from L2 and L3 (the KC × NC block of B is shared by the threads). KC makes
/// the A micro-panel half of L1d: on a Zen 4 core (32 KiB L1d) 256 in double and 512 in single, on a 48 KiB L1d 384 and 512
/// (capped). A deep KC spends less of each micro-kernel call loading and storing its C tile. The former rule held a B
/// micro-panel in L1 (KC = L1d / (NR·sizeof(T)), 168 on Zen 4) and an A block of a tenth of L2; on a Zen 4 the vendor
/// runs of the benchmarks put it well behind OpenBLAS and this rule level with it (docs/benchmarks.md).
/// The sizes come from Linux's sysfs (<c>/sys/devices/system/cpu/cpu0/cache</c>); elsewhere, or when it cannot be read, 48 KiB
/// L1d and 1 MiB L2 are assumed.</para>
/// <para>The environment variable <c>FEATURELEARNING_GEMM_BLOCKING=KC,MC,NC</c> overrides the choice (for calibration: the
/// benchmarks' <c>--quick --gemm-blocking</c> sweeps it).</para>
/// </remarks>
/// <param name="Kc">Depth of a packed block (a multiple of 8).</param>
/// <param name="Mc">Rows of a packed A block (a multiple of the register tile's rows).</param>
/// <param name="Nc">Columns of a packed B block (a multiple of the register tile's columns).</param>
internal readonly record struct GemmBlocking(int Kc, int Mc, int Nc)
{
    /// <summary>The environment variable that overrides the blocking.</summary>
    public const string Variable = "FEATURELEARNING_GEMM_BLOCKING";

    /// <summary>The largest KC, MC or NC the override accepts.</summary>
    public const int MaxBlock = 4096;

    /// <summary>The L1d and L2 sizes assumed when the OS does not report them (a Zen 5 core).</summary>
    public const int DefaultL1Bytes = 48 * 1024, DefaultL2Bytes = 1024 * 1024;

    private static readonly Lazy<(int L1, int L2, string Source)> Caches = new(ReadCaches);

    /// <summary>The data-cache sizes the blocking was derived from, and where they came from.</summary>
    public static (int L1Bytes, int L2Bytes, string Source) CacheSizes => Caches.Value;

    /// <summary>The blocking for element size <paramref name="elementBytes"/> and register tile MR × NR on this machine.</summary>
    /// <exception cref="InvalidOperationException">The override variable is set to something that is not three positive integers.</exception>
    public static GemmBlocking For(int elementBytes, int mr, int nr)
    {
        if (Parse(Environment.GetEnvironmentVariable(Variable), mr, nr) is { } forced)
        {
            return forced;
        }

        return FromCaches(Caches.Value.L1, elementBytes, mr, nr, IsIntel);
    }

    /// <summary>Whether the CPU is an Intel one (CPUID vendor <c>GenuineIntel</c>), whose rows per A block differ (<see cref="FromCaches"/>).</summary>
    public static bool IsIntel { get; } = ReadIsIntel();

    /// <summary>
    /// The blocking for the GEMM's static initializer: as <see cref="For"/>, but a malformed override falls back to the
    /// cache-derived blocking instead of failing the type's initialization (the managed backend's constructor calls
    /// <see cref="CheckOverride"/> first, so a bad value is reported there as an <see cref="InvalidOperationException"/>).
    /// </summary>
    internal static GemmBlocking ForInitializer(int elementBytes, int mr, int nr)
    {
        try
        {
            return For(elementBytes, mr, nr);
        }
        catch (InvalidOperationException)
        {
            return FromCaches(Caches.Value.L1, elementBytes, mr, nr, IsIntel);
        }
    }

    /// <summary>Throws when the override variable is set to something malformed.</summary>
    /// <exception cref="InvalidOperationException">The value is not three integers KC,MC,NC in range.</exception>
    public static void CheckOverride() => _ = Parse(Environment.GetEnvironmentVariable(Variable), 8, 8);

    /// <summary>
    /// The rule: KC makes an MR-row micro-panel of A half of L1d (64 to 512), MC = MR, NC = 128 register-tile widths (single: 64).
    /// On an Intel CPU (<paramref name="intel"/>) an A block is four micro-panels (MC = 4·MR) and KC at most 384, so that each
    /// B micro-panel fetched into L2 serves 32 rows: on a 2-core Xeon with AVX-512 and AMX (a Sapphire Rapids), where the B
    /// block streams from a slower L3 than a Zen 4's, the benchmarks' <c>--quick --gemm-blocking</c> sweep put four
    /// micro-panels per block ahead of one at every depth in double (docs/benchmarks.md, seventh session); on a Zen 4 the
    /// same sweep put one micro-panel per block ahead. Every product, however shallow, takes this MC (<see cref="PackedGemm{T}"/>:
    /// since the micro-kernels prefetch the next B micro-panel, the Cholesky factor's depth-96 updates were faster with four
    /// micro-panels per block on that Intel machine, tenth session).
    /// </summary>
    public static GemmBlocking FromCaches(int l1Bytes, int elementBytes, int mr, int nr, bool intel = false)
    {
        int kc = Math.Clamp(l1Bytes / (2 * mr * elementBytes) / 8 * 8, 64, intel ? 384 : 512);
        int mc = intel ? 4 * mr : mr;
        int nc = nr * (elementBytes == 4 ? 64 : 128);
        return new GemmBlocking(kc, mc, nc);
    }

    private static bool ReadIsIntel()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
        {
            return false;
        }

        // CPUID leaf 0: the vendor string in EBX, EDX, ECX ("Genu", "ineI", "ntel").
        var (_, ebx, ecx, edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
        return ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;
    }

    /// <summary>Parses <c>KC,MC,NC</c> (null when unset or blank), rounding MC and NC up to the tile.</summary>
    /// <exception cref="InvalidOperationException">Not three positive integers.</exception>
    public static GemmBlocking? Parse(string? value, int mr, int nr)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 && v <= MaxBlock))
        {
            throw new InvalidOperationException($"The environment variable {Variable} is '{value}': use three integers KC,MC,NC from 1 to {MaxBlock} (e.g. 256,96,3072), or leave it unset.");
        }

        int kc = int.Parse(parts[0], CultureInfo.InvariantCulture);
        int mc = int.Parse(parts[1], CultureInfo.InvariantCulture);
        int nc = int.Parse(parts[2], CultureInfo.InvariantCulture);
        return new GemmBlocking(kc, (mc + mr - 1) / mr * mr, (nc + nr - 1) / nr * nr);
    }

    /// <inheritdoc />
    public override string ToString() => $"KC {Kc}, MC {Mc}, NC {Nc}";

    private static (int L1, int L2, string Source) ReadCaches()
    {
        int l1 = 0, l2 = 0;
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (Directory.Exists(root))
            {
                foreach (var dir in Directory.EnumerateDirectories(root, "index*"))
                {
                    string level = File.ReadAllText(Path.Combine(dir, "level")).Trim();
                    string type = File.ReadAllText(Path.Combine(dir, "type")).Trim();
                    int bytes = ParseSize(File.ReadAllText(Path.Combine(dir, "size")).Trim());
                    if (level == "1" && type == "Data")
                    {
                        l1 = bytes;
                    }
                    else if (level == "2" && type is "Unified" or "Data")
                    {
                        l2 = bytes;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            (l1, l2) = (0, 0);
        }

        // Only L1d sets the blocking; L2 is only reported (Describe).
        return (l1, l2) switch
        {
            ( > 0, > 0) => (l1, l2, "sysfs"),
            ( > 0, _) => (l1, DefaultL2Bytes, "sysfs L1d, L2 assumed"),
            _ => (DefaultL1Bytes, DefaultL2Bytes, "assumed"),
        };
    }

    /// <summary>Parses sysfs's cache size, e.g. <c>32K</c>, <c>1024K</c>, <c>2M</c>.</summary>
    /// <returns>The size in bytes, or 0 when the text is not a size up to 1 GiB.</returns>
    internal static int ParseSize(string text)
    {
        long scale = 1;
        if (text.EndsWith('K'))
        {
            scale = 1024;
        }
        else if (text.EndsWith('M'))
        {
            scale = 1024 * 1024;
        }

        string digits = scale == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value * scale is > 0 and <= 1L << 30
            ? (int)(value * scale)
            : 0;
    }
}

using System.Globalization;
using FeatureLearning.Compute;

namespace FeatureLearning.Samples;

/// <summary>The command-line options every sample shares: <c>--backend</c>, <c>--precision</c>, <c>--seed</c>, and named numbers.</summary>
internal sealed class SampleOptions
{
    private readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);

    public SampleOptions(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'. Options look like --name value.");
            }

            string name = args[i][2..];
            values[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string Get(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;

    public double Get(string name, double fallback) => values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public int Get(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The backend named by <c>--backend</c>, else the process default (<c>FEATURELEARNING_BACKEND</c> or managed).</summary>
    public IComputeBackend Backend() =>
        Has("no-buffer-pool") ? new ManagedBackend(bufferPoolBytes: 0)
        : Has("backend") ? ComputeBackends.Create(Get("backend", "managed"))
        : ComputeBackends.Default;

    public Precision Precision() => Get("precision", "double").ToUpperInvariant() switch
    {
        "SINGLE" or "FLOAT" or "FLOAT32" => Compute.Precision.Single,
        "DOUBLE" or "FLOAT64" => Compute.Precision.Double,
        var p => throw new ArgumentException($"--precision must be single or double, not '{p}'."),
    };
}

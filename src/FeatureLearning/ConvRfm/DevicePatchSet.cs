using FeatureLearning.Compute;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// A <see cref="PatchSet"/> uploaded once in the layout its pairing needs: the P per-position n × d matrices (aligned) or
/// the (n·P) × d image-major matrix (all pairs). A fit keeps its training, validation and AGOP-sample patches resident
/// this way across rounds.
/// </summary>
internal sealed class DevicePatchSet : IDisposable
{
    private readonly DeviceBuffer<double>[]? perPosition;
    private readonly DeviceBuffer<double>? imageMajor;

    /// <summary>Uploads <paramref name="host"/> in the layout of <paramref name="pairing"/>.</summary>
    public DevicePatchSet(IComputeBackend be, PatchSet host, PatchPairing pairing)
    {
        Host = host;
        if (pairing == PatchPairing.Aligned)
        {
            perPosition = new DeviceBuffer<double>[host.Positions];
            try
            {
                for (int p = 0; p < host.Positions; p++)
                {
                    perPosition[p] = be.Upload<double>(host.PerPosition[p], host.Count, host.Dimension);
                }
            }
            catch
            {
                Dispose();
                throw;
            }

            return;
        }

        long rows = (long)host.Count * host.Positions;
        if (rows > int.MaxValue)
        {
            throw new ArgumentException($"{host.Count} images of {host.Positions} patches exceed the 2^31 rows of a patch matrix.", nameof(host));
        }

        imageMajor = be.Upload<double>(host.ImageMajor, (int)rows, host.Dimension);
    }

    /// <summary>The host patches.</summary>
    public PatchSet Host { get; }

    /// <summary>Number of images n.</summary>
    public int Count => Host.Count;

    /// <summary>Number of patch positions P.</summary>
    public int Positions => Host.Positions;

    /// <summary>Patch dimension d.</summary>
    public int Dimension => Host.Dimension;

    /// <summary>The (n·P) × d image-major patches (all-pairs layout).</summary>
    public DeviceBuffer<double> ImageMajor => imageMajor ?? throw new InvalidOperationException("The patches were uploaded per position.");

    /// <summary>The n × d patches at position <paramref name="p"/> (aligned layout).</summary>
    public DeviceBuffer<double> Position(int p) => perPosition is { } all ? all[p] : throw new InvalidOperationException("The patches were uploaded image-major.");

    /// <inheritdoc />
    public void Dispose()
    {
        imageMajor?.Dispose();
        foreach (var buffer in perPosition ?? [])
        {
            buffer?.Dispose();
        }
    }
}

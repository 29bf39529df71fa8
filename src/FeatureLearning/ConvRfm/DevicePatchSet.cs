using System.Numerics;
using FeatureLearning.Compute;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// A <see cref="PatchSet{T}"/> uploaded once in the layout its pairing needs: the P per-position n × d matrices (aligned) or
/// the (n·P) × d image-major matrix (all pairs). A fit keeps its training, validation and AGOP-sample patches resident
/// this way across rounds.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal sealed class DevicePatchSet<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly DeviceBuffer<T>[]? perPosition;
    private readonly DeviceBuffer<T>? imageMajor;

    /// <summary>Uploads <paramref name="host"/> in the layout of <paramref name="pairing"/>.</summary>
    public DevicePatchSet(IComputeBackend be, PatchSet<T> host, PatchPairing pairing)
    {
        Host = host;
        if (pairing == PatchPairing.Aligned)
        {
            perPosition = new DeviceBuffer<T>[host.Positions];
            try
            {
                for (int p = 0; p < host.Positions; p++)
                {
                    perPosition[p] = be.Upload<T>(host.PerPosition[p], host.Count, host.Dimension);
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

        imageMajor = be.Upload<T>(host.ImageMajor, (int)rows, host.Dimension);
    }

    /// <summary>The host patches.</summary>
    public PatchSet<T> Host { get; }

    /// <summary>Number of images n.</summary>
    public int Count => Host.Count;

    /// <summary>Number of patch positions P.</summary>
    public int Positions => Host.Positions;

    /// <summary>Patch dimension d.</summary>
    public int Dimension => Host.Dimension;

    /// <summary>The (n·P) × d image-major patches (all-pairs layout).</summary>
    public DeviceBuffer<T> ImageMajor => imageMajor ?? throw new InvalidOperationException("The patches were uploaded per position.");

    /// <summary>The n × d patches at position <paramref name="p"/> (aligned layout).</summary>
    public DeviceBuffer<T> Position(int p) => perPosition is { } all ? all[p] : throw new InvalidOperationException("The patches were uploaded image-major.");

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

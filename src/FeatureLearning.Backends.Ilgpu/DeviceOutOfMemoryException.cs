namespace FeatureLearning.Backends.Ilgpu;

/// <summary>A device allocation did not fit, even after the backend's buffer pool was emptied.</summary>
public sealed class DeviceOutOfMemoryException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public DeviceOutOfMemoryException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public DeviceOutOfMemoryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the allocator's own exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DeviceOutOfMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a failed request.</summary>
    /// <param name="device">The device's name.</param>
    /// <param name="requestedBytes">Bytes requested.</param>
    /// <param name="availableBytes">Bytes free on the device when it failed (-1 if unknown).</param>
    /// <param name="totalBytes">The device's memory.</param>
    /// <param name="innerException">The allocator's exception.</param>
    public DeviceOutOfMemoryException(string device, long requestedBytes, long availableBytes, long totalBytes, Exception? innerException)
        : base(
            $"Allocating {Format(requestedBytes)} on {device} failed: {(availableBytes >= 0 ? Format(availableBytes) : "an unknown amount")} of {Format(totalBytes)} is free. "
            + "Use a smaller training set, single precision, an AGOP sample (RfmOptions.AgopSampleSize) or AGOP blocks (RfmOptions.BlockSize).",
            innerException)
    {
        RequestedBytes = requestedBytes;
        AvailableBytes = availableBytes;
        TotalBytes = totalBytes;
    }

    /// <summary>Bytes requested.</summary>
    public long RequestedBytes { get; }

    /// <summary>Bytes free on the device when the allocation failed, or -1 when the device does not report it.</summary>
    public long AvailableBytes { get; }

    /// <summary>The device's memory in bytes.</summary>
    public long TotalBytes { get; }

    private static string Format(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F2} GiB" : $"{bytes / (double)(1L << 20):F1} MiB";
}

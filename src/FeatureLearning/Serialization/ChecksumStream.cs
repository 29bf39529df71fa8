using System.Security.Cryptography;

namespace FeatureLearning.Serialization;

/// <summary>
/// A write-only stream that counts the bytes written to it and, when it wraps a target stream, forwards them and
/// computes their SHA-256; without a target it only counts (to measure a payload before writing it).
/// </summary>
internal sealed class ChecksumStream(Stream? target) : Stream
{
    private readonly IncrementalHash? sha = target is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    /// <summary>Bytes written so far.</summary>
    public override long Length => written;

    public override long Position
    {
        get => written;
        set => throw new NotSupportedException();
    }

    /// <summary>The SHA-256 of the bytes written so far.</summary>
    public byte[] Checksum() => sha?.GetCurrentHash() ?? throw new InvalidOperationException("A counting stream computes no checksum.");

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        target?.Write(buffer);
        sha?.AppendData(buffer);
        written += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => target?.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            sha?.Dispose();
        }

        base.Dispose(disposing);
    }
}

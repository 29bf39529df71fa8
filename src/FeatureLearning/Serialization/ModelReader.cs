using System.Numerics;
using System.Runtime.InteropServices;

namespace FeatureLearning.Serialization;

/// <summary>
/// Reads the payload of a model file from a seekable stream, bounded by the payload's end. Every read is checked
/// against the bytes that remain before anything is allocated, and every problem is an
/// <see cref="InvalidDataException"/> that names the field and its byte offset in the model file.
/// </summary>
internal sealed class ModelReader
{
    private readonly Stream stream;
    private readonly long origin;
    private readonly long end;
    private readonly byte[] scratch = new byte[8];

    /// <param name="stream">The stream, positioned at the payload's first byte.</param>
    /// <param name="offset">The offset of the payload's first byte in the model file (for messages).</param>
    /// <param name="length">The payload length in bytes.</param>
    public ModelReader(Stream stream, long offset, long length)
    {
        this.stream = stream;
        origin = stream.Position - offset;
        end = stream.Position + length;
    }

    /// <summary>The model tag found in the file's header (an older tag where the model reads one).</summary>
    public string Tag { get; init; } = string.Empty;

    /// <summary>The current offset in the model file.</summary>
    public long Position => stream.Position - origin;

    /// <summary>Bytes left in the payload.</summary>
    public long Remaining => end - stream.Position;

    public byte ReadByte(string what) => Fill(1, what)[0];

    public int ReadInt32(string what) => BitConverter.ToInt32(Fill(4, what));

    public long ReadInt64(string what) => BitConverter.ToInt64(Fill(8, what));

    public double ReadDouble(string what) => BitConverter.ToDouble(Fill(8, what));

    /// <summary>A double that must be finite and not negative (a ridge, a jitter).</summary>
    public double ReadNonNegative(string what)
    {
        long at = Position;
        double v = ReadDouble(what);
        return double.IsFinite(v) && v >= 0 ? v : throw Corrupt($"{what} at byte {at} is {v}; it must be finite and not negative.");
    }

    /// <summary>An int32 that must be at least <paramref name="min"/>.</summary>
    public int ReadInt32(string what, int min)
    {
        long at = Position;
        int v = ReadInt32(what);
        return v >= min ? v : throw Corrupt($"{what} at byte {at} is {v}; it must be at least {min}.");
    }

    /// <summary>An int32 record count, checked against the bytes left: each record takes at least <paramref name="minBytesEach"/> bytes.</summary>
    public int ReadCount(string what, int minBytesEach)
    {
        long at = Position;
        int count = ReadInt32(what, 0);
        if ((long)count * minBytesEach > Remaining)
        {
            throw SizeClaim(at, $"{count} {what} of at least {minBytesEach} bytes each", Remaining);
        }

        return count;
    }

    /// <summary>
    /// An array of the product of <paramref name="dimensions"/> finite values, checked against the bytes left (and
    /// the largest array) before it is allocated.
    /// </summary>
    public T[] ReadArray<T>(string what, params ReadOnlySpan<int> dimensions)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long at = Position;
        Int128 count = 1;
        foreach (int d in dimensions)
        {
            count *= d < 0 ? throw Corrupt($"{what} at byte {at} has a negative dimension {d}.") : d;
        }

        int size = Marshal.SizeOf<T>();
        if (count * size > Remaining || count > Array.MaxLength)
        {
            throw SizeClaim(at, $"{what}: {count} values of {size} bytes", Remaining);
        }

        var values = new T[(int)count];
        ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()), at, what);
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                throw Corrupt($"{what} holds a non-finite value ({values[i]}) at byte {at + ((long)i * size)}.");
            }
        }

        return values;
    }

    /// <summary>A string stored as an int32 byte count and that many UTF-8 bytes, checked against the bytes left.</summary>
    public string ReadUtf8(string what)
    {
        long at = Position;
        int length = ReadInt32($"{what} length", 0);
        if (length > Remaining)
        {
            throw SizeClaim(at, $"{what}: {length} bytes", Remaining);
        }

        var bytes = new byte[length];
        ReadExactly(bytes, at, what);
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw Corrupt($"{what} at byte {at} is not valid UTF-8.");
        }
    }

    /// <summary>Throws unless the whole payload was read.</summary>
    public void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw Corrupt($"{Remaining} bytes after the model's last field (at byte {Position}) were not expected.");
        }
    }

    /// <summary>An exception for a malformed model file.</summary>
    public static InvalidDataException Corrupt(string message) => new($"Corrupt model file: {message}");

    /// <summary>An exception for a size field that claims more bytes than the file holds.</summary>
    public static InvalidDataException SizeClaim(long at, string claim, long remaining)
        => new($"Corrupt model file: the size at byte {at} claims {claim}, more than the {remaining} bytes left in the file.");

    /// <summary>An exception for a file that ends before a field.</summary>
    public static InvalidDataException Truncated(long at, string what, int needed, long remaining)
        => new($"The model file is truncated at byte {at + Math.Max(0, remaining)}: {what} needs {needed} bytes at byte {at}.");

    private ReadOnlySpan<byte> Fill(int bytes, string what)
    {
        long at = Position;
        if (Remaining < bytes)
        {
            throw Truncated(at, what, bytes, Remaining);
        }

        var span = scratch.AsSpan(0, bytes);
        ReadExactly(span, at, what);
        return span;
    }

    private void ReadExactly(Span<byte> target, long at, string what)
    {
        int read = 0;
        while (read < target.Length)
        {
            int got = stream.Read(target[read..]);
            if (got == 0)
            {
                throw Truncated(at, what, target.Length, read);
            }

            read += got;
        }
    }
}

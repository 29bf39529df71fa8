using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Serialization;

/// <summary>
/// The binary model format (little-endian), version 2; see <c>docs/file-format.md</c>: magic "FLRN", uint16
/// version, a 4-byte model tag, uint8 precision (32 or 64), int64 payload length, the payload (the model's fields),
/// and the SHA-256 of everything before it. Version 1 files (no length, no checksum) are still read.
/// </summary>
internal static class ModelFile
{
    public const ushort Version = 2;
    public const ushort UncheckedVersion = 1;
    public const string KernelRidgeTag = "KRR1";
    public const string RfmTag = "RFM1";
    public const string ConvRfmTag = "CRF2";
    public const string DeepConvRfmTag = "DCR2";

    /// <summary>The ConvRFM payload before it recorded the selected round (still read).</summary>
    public const string ConvRfmTagV1 = "CRF1";

    /// <summary>The deep ConvRFM payload before it recorded the selected round (still read).</summary>
    public const string DeepConvRfmTagV1 = "DCR1";
    public const string SparseRegressionTag = "LSR1";
    public const string MatrixCompletionTag = "LMC1";

    /// <summary>The splits of RFM trees (<see cref="Trees.RfmTreeRouting"/>), written before the leaves are fitted.</summary>
    public const string RfmTreeRoutingTag = "RTR1";

    /// <summary>A whole RFM tree model: its routing and one RFM per leaf.</summary>
    public const string RfmTreeTag = "RFT1";

    /// <summary>The estimator facade's classifier: scaler, class labels and the kernel ridge or RFM model.</summary>
    public const string ClassifierTag = "FMC1";

    /// <summary>The estimator facade's regressor: scaler and the kernel ridge or RFM model.</summary>
    public const string RegressorTag = "FMR1";

    /// <summary>Bytes before the payload in version 2: magic, version, tag, precision, payload length.</summary>
    public const int HeaderLength = 19;

    /// <summary>Bytes of the checksum after the payload.</summary>
    public const int ChecksumLength = 32;

    /// <summary>Bytes of one RFM history record: two int32 and eight doubles.</summary>
    private const int HistoryRecordLength = 72;

    private const int ChunkLength = 1 << 16;
    private static readonly byte[] Magic = "FLRN"u8.ToArray();

    [ThreadStatic]
    private static Action<FileStream>? beforeCommit;

    /// <summary>Test hook, per thread: called with the temporary file's stream after the model was written to it and before it is flushed.</summary>
    internal static Action<FileStream>? BeforeCommit
    {
        get => beforeCommit;
        set => beforeCommit = value;
    }

    /// <summary>
    /// Writes the model to a temporary file in the target's directory, flushes it to disk, and renames it over
    /// <paramref name="path"/>; on any failure the temporary file is deleted and an existing file at the path is untouched.
    /// </summary>
    public static void SaveToFile(string path, Action<Stream> save)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                save(stream);
                beforeCommit?.Invoke(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <summary>Opens the file and reads a model from it.</summary>
    public static TModel LoadFromFile<TModel>(string path, Func<Stream, TModel> load)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return load(stream);
    }

    /// <summary>Writes header, payload and checksum; the payload is written twice, first only to measure its length.</summary>
    public static void Save(Stream stream, string tag, Precision precision, Action<BinaryWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long length;
        using (var counter = new ChecksumStream(null))
        {
            using (var w = new BinaryWriter(counter, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writePayload(w);
            }

            length = counter.Length;
        }

        using var target = new ChecksumStream(stream);
        using (var w = new BinaryWriter(target, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(System.Text.Encoding.ASCII.GetBytes(tag));
            w.Write((byte)precision);
            w.Write(length);
            writePayload(w);
        }

        if (target.Length != HeaderLength + length)
        {
            throw new InvalidOperationException($"The model wrote {target.Length - HeaderLength} payload bytes after measuring {length}.");
        }

        stream.Write(target.Checksum());
    }

    /// <summary>
    /// Reads a model: the header, then (version 2) the checksum over header and payload, verified before any field
    /// of the payload is interpreted, then the payload. Every malformed file ends in an <see cref="InvalidDataException"/>.
    /// </summary>
    /// <param name="stream">The stream, positioned at the header.</param>
    /// <param name="tag">The model's tag.</param>
    /// <param name="precision">The element type the caller loads into.</param>
    /// <param name="readPayload">Reads the model's fields.</param>
    /// <param name="legacyTag">An older tag of the same model whose payload <paramref name="readPayload"/> also reads (it sees the tag as <see cref="ModelReader.Tag"/>).</param>
    public static TModel Load<TModel>(Stream stream, string tag, Precision precision, Func<ModelReader, TModel> readPayload, string? legacyTag = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        }

        var header = new byte[HeaderLength];
        ReadHeaderBytes(stream, header, 0, 6);
        if (!header.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a FeatureLearning model file (bad magic number).");
        }

        ushort version = BitConverter.ToUInt16(header, 4);
        if (version == UncheckedVersion)
        {
            ReadHeaderBytes(stream, header, 6, 5);
            return LoadUnchecked(stream, header, tag, legacyTag, precision, readPayload);
        }

        if (version != Version)
        {
            throw new InvalidDataException($"Model file format version {version} is not supported by this library (it reads versions {UncheckedVersion} and {Version}).");
        }

        ReadHeaderBytes(stream, header, 6, HeaderLength - 6);
        long length = BitConverter.ToInt64(header, 11);
        var source = Seekable(stream, length < 0 || length > long.MaxValue - ChecksumLength ? -1 : length + ChecksumLength);
        long left = source.Length - source.Position;
        if (length < 0 || length > left - ChecksumLength)
        {
            throw new InvalidDataException(
                $"The model file is truncated or corrupt: its header (bytes 0–{HeaderLength - 1}) announces a payload of {length} bytes and a {ChecksumLength}-byte checksum, but only {left} bytes follow.");
        }

        long start = source.Position;
        VerifyChecksum(source, header, length);
        source.Position = start;
        string found = CheckTagAndPrecision(header, tag, legacyTag, precision);
        var model = ReadPayload(new ModelReader(source, HeaderLength, length) { Tag = found }, readPayload);
        if (ReferenceEquals(source, stream))
        {
            stream.Position = start + length + ChecksumLength;
        }

        return model;
    }

    public static void WriteKernel(BinaryWriter w, IKernelFunction kernel)
    {
        switch (kernel)
        {
            case LaplaceKernel k:
                w.Write((byte)1);
                w.Write(k.Bandwidth);
                break;
            case GaussianKernel k:
                w.Write((byte)2);
                w.Write(k.Bandwidth);
                break;
            case GeneralizedLaplaceKernel k:
                w.Write((byte)3);
                w.Write(k.Bandwidth);
                w.Write(k.Exponent);
                break;
            case PolynomialKernel k:
                w.Write((byte)4);
                w.Write(k.Degree);
                w.Write(k.Offset);
                break;
            case Ntk.NeuralKernel k:
                w.Write((byte)5);
                w.Write((int)k.Kind);
                w.Write(k.InputDimension);
                w.Write((int)k.Network.Activation.Kind);
                w.Write(k.Network.Activation.Slope);
                w.Write(k.Network.Depth);
                w.Write(k.Network.WeightStd);
                w.Write(k.Network.BiasStd);
                w.Write(k.Network.QuadratureOrder);
                w.Write(k.Network.ForceQuadrature);
                break;
            default:
                throw new NotSupportedException($"Kernel type {kernel.GetType().Name} cannot be saved: the file format knows the library's kernels only.");
        }
    }

    private static Ntk.NeuralKernel ReadNeuralKernel(ModelReader r)
    {
        var kind = (Ntk.NeuralKernelKind)r.ReadInt32("neural kernel kind");
        int d = r.ReadInt32("neural kernel input dimension");
        var activation = new Networks.Activation((Networks.ActivationKind)r.ReadInt32("activation"), r.ReadDouble("activation slope"));
        var network = new Ntk.InfiniteWidthKernel(activation, r.ReadInt32("depth"), r.ReadDouble("weight scale σ_w"), r.ReadDouble("bias scale σ_b"))
        {
            QuadratureOrder = r.ReadInt32("quadrature order"),
            ForceQuadrature = r.ReadByte("quadrature flag") switch
            {
                0 => false,
                1 => true,
                var flag => throw ModelReader.Corrupt($"the quadrature flag is {flag}, not 0 or 1."),
            },
        };
        return new Ntk.NeuralKernel(network, d, kind);
    }

    public static IKernelFunction ReadKernel(ModelReader r)
    {
        long at = r.Position;
        byte id = r.ReadByte("kernel id");
        IKernelFunction kernel = id switch
        {
            1 => new LaplaceKernel(r.ReadDouble("Laplace bandwidth")),
            2 => new GaussianKernel(r.ReadDouble("Gaussian bandwidth")),
            3 => new GeneralizedLaplaceKernel(r.ReadDouble("generalized Laplace bandwidth"), r.ReadDouble("generalized Laplace exponent")),
            4 => new PolynomialKernel(r.ReadInt32("polynomial degree"), r.ReadDouble("polynomial offset")),
            5 => ReadNeuralKernel(r),
            _ => throw ModelReader.Corrupt($"unknown kernel id {id} at byte {at}."),
        };
        try
        {
            kernel.Validate();
        }
        catch (ArgumentException e)
        {
            throw ModelReader.Corrupt($"the kernel at byte {at} has invalid parameters: {e.Message}");
        }

        return kernel;
    }

    public static void WriteMetric(BinaryWriter w, Metric metric)
    {
        w.Write((byte)metric.Kind);
        w.Write(metric.Dimension);
        foreach (double v in metric.ToArray())
        {
            w.Write(v);
        }
    }

    /// <summary>Reads a metric: an identity metric stores dimension 0, the others at least 1 (checked against the data by <see cref="RequireDimension"/>).</summary>
    public static Metric ReadMetric(ModelReader r)
    {
        long at = r.Position;
        byte kind = r.ReadByte("metric kind");
        int d = r.ReadInt32("metric dimension", 0);
        return kind switch
        {
            (byte)MetricKind.Identity when d == 0 => Metric.Identity,
            (byte)MetricKind.Diagonal when d > 0 => Metric.Diagonal(r.ReadArray<double>("diagonal metric", d)),
            (byte)MetricKind.Full when d > 0 => Metric.Full(Matrix<double>.Build.DenseOfRowMajor(d, d, r.ReadArray<double>("full metric", d, d))),
            _ => throw ModelReader.Corrupt($"metric kind {kind} with dimension {d} at byte {at} is not a valid metric."),
        };
    }

    /// <summary>Throws unless a diagonal or full metric (stored at byte <paramref name="at"/>) has the model's input dimension.</summary>
    public static void RequireDimension(Metric metric, int dimension, long at)
    {
        if (metric.Kind != MetricKind.Identity && metric.Dimension != dimension)
        {
            throw ModelReader.Corrupt($"the {metric.Kind} metric at byte {at} is {metric.Dimension}-dimensional, but the model's inputs have {dimension} dimensions.");
        }
    }

    /// <summary>Writes seven int32: q, stride, padding, circular (0/1), C, H, W.</summary>
    public static void WriteLayout(BinaryWriter w, PatchLayout layout)
    {
        foreach (int v in new[] { layout.PatchSize, layout.Stride, layout.Padding, layout.Circular ? 1 : 0, layout.Channels, layout.Height, layout.Width })
        {
            w.Write(v);
        }
    }

    /// <summary>Reads seven int32 (q, stride, padding, circular, C, H, W) and checks that the patches fit the padded images without overflow.</summary>
    public static PatchLayout ReadLayout(ModelReader r, string what)
    {
        long at = r.Position;
        int q = r.ReadInt32($"{what} patch size", 1), stride = r.ReadInt32($"{what} stride", 1), padding = r.ReadInt32($"{what} padding", 0);
        int circular = r.ReadInt32($"{what} circular flag", 0);
        int c = r.ReadInt32($"{what} channels", 1), h = r.ReadInt32($"{what} height", 1), width = r.ReadInt32($"{what} width", 1);
        long paddedH = h + (2L * padding), paddedW = width + (2L * padding);
        if (circular > 1 || q > paddedH || q > paddedW || paddedH > int.MaxValue || paddedW > int.MaxValue || (long)c * q * q > Array.MaxLength)
        {
            throw ModelReader.Corrupt($"{what} at byte {at} is inconsistent: patch {q}, stride {stride}, padding {padding}, circular {circular}, images {c} x {h} x {width}.");
        }

        return new PatchLayout(q, stride, padding, circular == 1, c, h, width);
    }

    /// <summary>int32 count, then per round: int32 round, int32 rounds, 8 doubles.</summary>
    public static void WriteHistory(BinaryWriter w, IReadOnlyList<RfmIteration> history)
    {
        w.Write(history.Count);
        foreach (var h in history)
        {
            w.Write(h.Iteration);
            w.Write(h.Iterations);
            foreach (double v in new[] { h.TrainMse, h.TrainAccuracy, h.ValidationMse, h.ValidationAccuracy, h.Jitter, h.KernelSeconds, h.SolveSeconds, h.AgopSeconds })
            {
                w.Write(v);
            }
        }
    }

    public static List<RfmIteration> ReadHistory(ModelReader r)
    {
        int count = r.ReadCount("history records", HistoryRecordLength);
        var history = new List<RfmIteration>(count);
        for (int i = 0; i < count; i++)
        {
            int it = r.ReadInt32("history round"), total = r.ReadInt32("history round count");
            var v = new double[8];
            for (int k = 0; k < v.Length; k++)
            {
                v[k] = r.ReadDouble("history value");
            }

            history.Add(new RfmIteration(it, total, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
        }

        return history;
    }

    /// <summary>int32 count, then per matrix: int32 d and d·d doubles (row-major).</summary>
    public static void WriteSquareMatrices(BinaryWriter w, IReadOnlyList<Matrix<double>> matrices)
    {
        w.Write(matrices.Count);
        foreach (var m in matrices)
        {
            w.Write(m.RowCount);
            WriteArray(w, m.ToRowMajorArray());
        }
    }

    public static List<Matrix<double>> ReadSquareMatrices(ModelReader r, string what)
    {
        int count = r.ReadCount(what, sizeof(int) + sizeof(double));
        var matrices = new List<Matrix<double>>(count);
        for (int i = 0; i < count; i++)
        {
            int d = r.ReadInt32($"{what} dimension", 1);
            matrices.Add(Matrix<double>.Build.DenseOfRowMajor(d, d, r.ReadArray<double>(what, d, d)));
        }

        return matrices;
    }

    public static void WriteArray<T>(BinaryWriter w, T[] values)
        where T : unmanaged, IFloatingPointIeee754<T>
        => w.Write(MemoryMarshal.AsBytes(values.AsSpan()));

    private static TModel LoadUnchecked<TModel>(Stream stream, byte[] header, string tag, string? legacyTag, Precision precision, Func<ModelReader, TModel> readPayload)
    {
        string found = CheckTagAndPrecision(header, tag, legacyTag, precision);
        var source = Seekable(stream, -1);
        var reader = new ModelReader(source, 11, source.Length - source.Position) { Tag = found };
        return ReadPayload(reader, readPayload);
    }

    /// <summary>Runs the payload reader, requires it to read the whole payload, and turns a stored value the model's types reject into an <see cref="InvalidDataException"/>.</summary>
    private static TModel ReadPayload<TModel>(ModelReader reader, Func<ModelReader, TModel> readPayload)
    {
        long at = reader.Position;
        TModel model;
        try
        {
            model = readPayload(reader);
        }
        catch (ArgumentException e)
        {
            throw ModelReader.Corrupt($"a value stored before byte {reader.Position} (payload from byte {at}) is invalid: {e.Message}");
        }

        reader.EnsureEnd();
        return model;
    }

    /// <summary>Deletes the temporary file of a failed save; a failure to delete it must not hide the save's own exception.</summary>
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The save's exception is the one to report; the stray file is named .<name>.<random>.tmp.
        }
    }

    private static string CheckTagAndPrecision(byte[] header, string tag, string? legacyTag, Precision precision)
    {
        string found = System.Text.Encoding.ASCII.GetString(header, 6, 4);
        if (found != tag && found != legacyTag)
        {
            throw new InvalidDataException($"The file holds a '{found}' model, not a '{tag}' model.");
        }

        var stored = (Precision)header[10];
        if (stored != precision)
        {
            throw new InvalidDataException(Enum.IsDefined(stored)
                ? $"The model was saved in {stored.ToName()} precision; load it with that element type."
                : $"Corrupt model file: unknown precision {header[10]} at byte 10.");
        }

        return found;
    }

    /// <summary>Reads header bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> − 1.</summary>
    private static void ReadHeaderBytes(Stream stream, byte[] header, int offset, int count)
    {
        for (int read = 0; read < count;)
        {
            int got = stream.Read(header, offset + read, count - read);
            if (got == 0)
            {
                throw new InvalidDataException($"The model file is truncated at byte {offset + read}: the header needs {HeaderLength} bytes (version 1: 11).");
            }

            read += got;
        }
    }

    /// <summary>
    /// The stream itself when it can seek; otherwise its next <paramref name="limit"/> bytes (all of it when negative)
    /// copied into memory in chunks that start at 4 KiB and grow with the data, so the copy never outgrows what the
    /// stream really holds by more than a small factor, whatever the header claims.
    /// </summary>
    private static Stream Seekable(Stream stream, long limit)
    {
        if (stream.CanSeek)
        {
            return stream;
        }

        var copy = new MemoryStream();
        var chunk = new byte[4096];
        while (limit < 0 || copy.Length < limit)
        {
            int got = stream.Read(chunk, 0, limit < 0 ? chunk.Length : (int)Math.Min(chunk.Length, limit - copy.Length));
            if (got == 0)
            {
                break;
            }

            copy.Write(chunk, 0, got);
            if (copy.Length >= 4L * chunk.Length && chunk.Length < ChunkLength)
            {
                chunk = new byte[chunk.Length * 4];
            }
        }

        copy.Position = 0;
        return copy;
    }

    private static void VerifyChecksum(Stream source, byte[] header, long length)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(header);
        var chunk = new byte[(int)Math.Max(ChecksumLength, Math.Min(ChunkLength, length))];
        for (long left = length; left > 0;)
        {
            int got = source.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (got == 0)
            {
                throw new InvalidDataException($"The model file is truncated at byte {HeaderLength + length - left}.");
            }

            sha.AppendData(chunk, 0, got);
            left -= got;
        }

        var stored = chunk.AsSpan(0, ChecksumLength);
        for (int read = 0; read < ChecksumLength;)
        {
            int got = source.Read(stored[read..]);
            if (got == 0)
            {
                throw new InvalidDataException($"The model file is truncated at byte {HeaderLength + length + read}: the checksum needs {ChecksumLength} bytes.");
            }

            read += got;
        }

        if (!stored.SequenceEqual(sha.GetHashAndReset()))
        {
            throw new InvalidDataException(
                $"Checksum mismatch: the SHA-256 of bytes 0–{HeaderLength + length - 1} differs from the one stored after them; the model file is corrupt.");
        }
    }
}

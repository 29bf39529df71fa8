using System.Numerics;
using System.Runtime.InteropServices;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.KernelMachines;

/// <summary>
/// The binary model format (little-endian), version 1; see <c>docs/file-format.md</c>:
/// magic "FLRN", uint16 version, a 4-byte model tag, uint8 precision (32 or 64), then the model's fields.
/// </summary>
internal static class ModelFile
{
    public const ushort Version = 1;
    public const string KernelRidgeTag = "KRR1";
    public const string RfmTag = "RFM1";
    public const string ConvRfmTag = "CRF1";
    public const string DeepConvRfmTag = "DCR1";
    private static readonly byte[] Magic = "FLRN"u8.ToArray();

    /// <summary>Creates (overwrites) the file and writes the model to it.</summary>
    public static void SaveToFile(string path, Action<Stream> save)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.Create(path);
        save(stream);
    }

    /// <summary>Opens the file and reads a model from it.</summary>
    public static TModel LoadFromFile<TModel>(string path, Func<Stream, TModel> load)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return load(stream);
    }

    public static void WriteHeader(BinaryWriter w, string tag, Precision precision)
    {
        w.Write(Magic);
        w.Write(Version);
        w.Write(System.Text.Encoding.ASCII.GetBytes(tag));
        w.Write((byte)precision);
    }

    public static void ReadHeader(BinaryReader r, string tag, Precision precision)
    {
        var magic = r.ReadBytes(4);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a FeatureLearning model file (bad magic number).");
        }

        ushort version = r.ReadUInt16();
        if (version != Version)
        {
            throw new InvalidDataException($"Model file format version {version} is not supported by this library (it reads version {Version}).");
        }

        string found = System.Text.Encoding.ASCII.GetString(r.ReadBytes(4));
        if (found != tag)
        {
            throw new InvalidDataException($"The file holds a '{found}' model, not a '{tag}' model.");
        }

        var stored = (Precision)r.ReadByte();
        if (stored != precision)
        {
            throw new InvalidDataException($"The model was saved in {stored.ToName()} precision; load it with that element type.");
        }
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
            default:
                throw new NotSupportedException($"Kernel type {kernel.GetType().Name} cannot be saved: the file format knows the library's kernels only.");
        }
    }

    public static IKernelFunction ReadKernel(BinaryReader r)
    {
        byte id = r.ReadByte();
        IKernelFunction kernel = id switch
        {
            1 => new LaplaceKernel(r.ReadDouble()),
            2 => new GaussianKernel(r.ReadDouble()),
            3 => new GeneralizedLaplaceKernel(r.ReadDouble(), r.ReadDouble()),
            4 => new PolynomialKernel(r.ReadInt32(), r.ReadDouble()),
            _ => throw new InvalidDataException($"Unknown kernel id {id} in model file."),
        };
        kernel.Validate();
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

    public static Metric ReadMetric(BinaryReader r)
    {
        var kind = (MetricKind)r.ReadByte();
        int d = r.ReadInt32();
        switch (kind)
        {
            case MetricKind.Identity:
                return Metric.Identity;
            case MetricKind.Diagonal:
                return Metric.Diagonal(ReadArray<double>(r, d));
            case MetricKind.Full:
                return Metric.Full(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(d, d, ReadArray<double>(r, (long)d * d)));
            default:
                throw new InvalidDataException($"Unknown metric kind {(int)kind} in model file.");
        }
    }

    /// <summary>int32 count, then per round: int32 round, int32 rounds, 8 doubles.</summary>
    public static void WriteHistory(BinaryWriter w, IReadOnlyList<Rfm.RfmIteration> history)
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

    public static List<Rfm.RfmIteration> ReadHistory(BinaryReader r)
    {
        int count = r.ReadInt32();
        if (count < 0)
        {
            throw new InvalidDataException($"Corrupt model file: {count} history records.");
        }

        var history = new List<Rfm.RfmIteration>(count);
        for (int i = 0; i < count; i++)
        {
            int it = r.ReadInt32(), total = r.ReadInt32();
            history.Add(new Rfm.RfmIteration(it, total, r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble()));
        }

        return history;
    }

    public static void WriteArray<T>(BinaryWriter w, T[] values)
        where T : unmanaged, IFloatingPointIeee754<T>
        => w.Write(MemoryMarshal.AsBytes(values.AsSpan()));

    public static T[] ReadArray<T>(BinaryReader r, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (count < 0 || count > Array.MaxLength)
        {
            throw new InvalidDataException($"Corrupt model file: array of {count} elements.");
        }

        var values = new T[count];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        int read = 0;
        while (read < bytes.Length)
        {
            int got = r.Read(bytes[read..]);
            if (got == 0)
            {
                throw new InvalidDataException("Corrupt model file: it ends early.");
            }

            read += got;
        }

        return values;
    }
}

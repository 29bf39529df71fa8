using System.Buffers.Binary;
using System.Security.Cryptography;
using FeatureLearning.Compute;
using FeatureLearning.KernelMachines;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Serialization;

public sealed class ModelFileTests : IDisposable
{
    /// <summary>Allocation allowed for reading a malformed file: 64 times its size plus a constant for the stream, the hash and the exception.</summary>
    private const int AllocationPerByte = 64;
    private const int AllocationConstant = 32 * 1024;

    private readonly string directory = Directory.CreateTempSubdirectory("featurelearning-files-").FullName;

    public static TheoryData<string> Names => SmallModels.Names;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [MemberData(nameof(Names))]
    public void RoundTripIsBitIdenticalThroughStreamsFilesAndNonSeekableStreams(string name)
    {
        var c = SmallModels.Named(name);
        var loaded = c.Load(new MemoryStream(c.Bytes));
        c.Saved(loaded).Should().Equal(c.Bytes, "saving the loaded model writes the same bytes: every learned value survived");
        c.Predict(loaded).Should().Equal(c.Expected);

        string path = Path.Combine(directory, "model.flrn");
        SaveFile(loaded, path);
        File.ReadAllBytes(path).Should().Equal(c.Bytes);
        Directory.GetFiles(directory).Should().Equal(path);
        var fromFile = LoadFile(name, path);
        c.Predict(fromFile).Should().Equal(c.Expected);
        c.Predict(c.Load(new NonSeekableStream(c.Bytes))).Should().Equal(c.Expected);

        // Version 2 header: magic, version 2, tag, precision, payload length; SHA-256 of all before it at the end.
        c.Bytes.AsSpan(0, 4).ToArray().Should().Equal("FLRN"u8.ToArray());
        BinaryPrimitives.ReadUInt16LittleEndian(c.Bytes.AsSpan(4)).Should().Be(2);
        BinaryPrimitives.ReadInt64LittleEndian(c.Bytes.AsSpan(11)).Should().Be(c.Bytes.Length - 19 - 32);
        SHA256.HashData(c.Bytes.AsSpan(0, c.Bytes.Length - 32)).Should().Equal(c.Bytes[^32..]);
    }

    [Fact]
    public void TwoModelsInOneStreamReadBackOneAfterTheOther()
    {
        var krr = SmallModels.Named("KernelRidgeModel<double>");
        var rfm = SmallModels.Named("RfmModel<float>");
        using var stream = new MemoryStream([.. krr.Bytes, .. rfm.Bytes]);
        krr.Predict(krr.Load(stream)).Should().Equal(krr.Expected);
        stream.Position.Should().Be(krr.Bytes.Length);
        rfm.Predict(rfm.Load(stream)).Should().Equal(rfm.Expected);
        stream.Position.Should().Be(stream.Length);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void VersionOneFilesStillLoad(string name)
    {
        var c = SmallModels.Named(name);
        var v1 = VersionOne(c.Bytes);
        c.Predict(c.Load(new MemoryStream(v1))).Should().Equal(c.Expected);
        c.Predict(c.Load(new NonSeekableStream(v1))).Should().Equal(c.Expected);

        // Without a checksum only the bounded reader stands between a damaged file and a model: every truncation is refused.
        for (int length = 0; length < v1.Length; length++)
        {
            Rejection(c, v1[..length]).Should().BeOfType<InvalidDataException>($"version 1 truncated to {length} bytes");
        }

        Rejection(c, [.. v1, 0]).Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain("were not expected");
    }

    [Fact]
    public void EveryBitFlipOfASmallModelIsRejected()
    {
        var c = SmallModels.Named("KernelRidgeModel<double>");
        var messages = new Dictionary<string, int>();
        for (int bit = 0; bit < c.Bytes.Length * 8; bit++)
        {
            var bytes = (byte[])c.Bytes.Clone();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            var e = Rejection(c, bytes);
            e.Should().BeOfType<InvalidDataException>($"bit {bit % 8} of byte {bit / 8} was flipped");
            string kind = e!.Message.Split(':')[0];
            messages[kind] = messages.GetValueOrDefault(kind) + 1;
        }

        messages.Keys.Should().Contain(["Not a FeatureLearning model file (bad magic number).", "Checksum mismatch"]);
        messages.Keys.Should().Contain(k => k.StartsWith("Model file format version", StringComparison.Ordinal));
        messages.Keys.Should().Contain("The model file is truncated or corrupt", "a flip in the payload length claims more bytes than the file has");
        messages["Checksum mismatch"].Should().BeGreaterThan((c.Bytes.Length - 19) * 8 * 9 / 10, "flips in payload and checksum are checksum mismatches");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ABitFlipInEveryByteOfEveryModelTypeIsRejected(string name)
    {
        var c = SmallModels.Named(name);
        var rng = new Random(5);
        for (int i = 0; i < c.Bytes.Length; i++)
        {
            var bytes = (byte[])c.Bytes.Clone();
            bytes[i] ^= (byte)(1 << rng.Next(8));
            Rejection(c, bytes).Should().BeOfType<InvalidDataException>($"a bit of byte {i} was flipped");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryTruncationIsAnInvalidDataException(string name)
    {
        var c = SmallModels.Named(name);
        for (int length = 0; length < c.Bytes.Length; length++)
        {
            var e = Rejection(c, c.Bytes[..length]);
            e.Should().BeOfType<InvalidDataException>($"the file was truncated to {length} bytes");
            e!.Message.Should().StartWith(length < 19
                ? $"The model file is truncated at byte {length}: the header needs 19 bytes"
                : $"The model file is truncated or corrupt: its header (bytes 0–18) announces a payload of {c.Bytes.Length - 51} bytes and a 32-byte checksum, but only {length - 19} bytes follow.");
            Rejection(c, c.Bytes[..length], seekable: false).Should().BeOfType<InvalidDataException>($"the stream was cut at {length} bytes");
        }
    }

    [Fact]
    public void AHundredByteFileClaimingAHundredMillionPointsIsRejectedWithoutAllocatingThem()
    {
        // A version 2 file with a valid checksum: only the size check stands between the claim n = 10^8 and an 800 MB array.
        var payload = new List<byte> { 1 };
        payload.AddRange(BitConverter.GetBytes(1.0));          // Laplace, L = 1
        payload.Add(0);
        payload.AddRange(BitConverter.GetBytes(0));            // identity metric, d = 0
        payload.AddRange(BitConverter.GetBytes(0.1));          // ridge
        payload.AddRange(BitConverter.GetBytes(0.0));          // jitter
        payload.AddRange(BitConverter.GetBytes(100_000_000));  // n
        payload.AddRange(BitConverter.GetBytes(1));            // d
        payload.AddRange(BitConverter.GetBytes(1));            // c
        payload.AddRange(new byte[100 - 19 - 32 - payload.Count]);
        var file = VersionTwo("KRR1", 64, [.. payload]);
        file.Should().HaveCount(100);
        string path = Path.Combine(directory, "huge-n.flrn");
        File.WriteAllBytes(path, file);

        var (e, allocated) = Measure(() => KernelRidgeModel<double>.Load(path));
        e.Should().BeOfType<InvalidDataException>().Which.Message.Should().Be(
            "Corrupt model file: the size at byte 61 claims training inputs: 100000000 values of 8 bytes, more than the 7 bytes left in the file.");
        allocated.Should().BeLessThan((AllocationPerByte * file.Length) + AllocationConstant);

        // The same claim in a version 1 file (no checksum), and the product n·d past every integer type.
        var v1 = VersionOne(file);
        (e, allocated) = Measure(() => KernelRidgeModel<double>.Load(new MemoryStream(v1)));
        e.Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain("claims training inputs: 100000000 values");
        allocated.Should().BeLessThan((AllocationPerByte * v1.Length) + AllocationConstant);

        payload[30] = payload[31] = payload[32] = 0xFF;
        payload[33] = 0x7F;
        payload[34] = payload[35] = payload[36] = 0xFF;
        payload[37] = 0x7F;
        (e, _) = Measure(() => KernelRidgeModel<double>.Load(new MemoryStream(VersionTwo("KRR1", 64, [.. payload]))));
        e.Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain($"claims training inputs: {(Int128)int.MaxValue * int.MaxValue} values");
    }

    [Fact]
    public void APayloadLengthBeyondTheFileIsRejectedBeforeReading()
    {
        var c = SmallModels.Named("KernelRidgeModel<double>");
        var bytes = (byte[])c.Bytes.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(11), 1L << 50);
        foreach (bool seekable in new[] { true, false })
        {
            var (e, allocated) = Measure(() => c.Load(seekable ? new MemoryStream(bytes) : new NonSeekableStream(bytes)));
            e.Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain($"announces a payload of {1L << 50} bytes");
            allocated.Should().BeLessThan((AllocationPerByte * bytes.Length) + AllocationConstant);
        }
    }

    [Fact]
    public void ValidChecksumsDoNotLetInvalidValuesThrough()
    {
        var c = SmallModels.Named("KernelRidgeModel<double>");
        var payload = c.Bytes[19..^32];

        // Unknown kernel id, a NaN bandwidth, an unknown metric kind, a negative ridge, a NaN coefficient, a trailing byte.
        Reject(Patched(payload, 0, [9]), "unknown kernel id 9 at byte 19");
        Reject(Patched(payload, 1, BitConverter.GetBytes(double.NaN)), "the kernel at byte 19 has invalid parameters");
        Reject(Patched(payload, 9, [7]), "metric kind 7 with dimension 3 at byte 28 is not a valid metric");
        Reject(Patched(payload, 9 + 5 + 72, BitConverter.GetBytes(-1.0)), "ridge at byte 105 is -1");
        Reject(Patched(payload, payload.Length - 8, BitConverter.GetBytes(double.PositiveInfinity)), "coefficients holds a non-finite value");
        Reject([.. payload, 0], "1 bytes after the model's last field");

        // An asymmetric metric: rejected by the metric's own validation, reported as a corrupt file.
        Reject(Patched(payload, 9 + 5 + 8, BitConverter.GetBytes(0.75)), "is not symmetric");

        void Reject(byte[] p, string message)
        {
            var e = Rejection(c, VersionTwo("KRR1", 64, p));
            e.Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain(message);
        }
    }

    [Fact]
    public void OtherVersionsKindsAndPrecisionsAreNamedInTheMessage()
    {
        var c = SmallModels.Named("RfmModel<double>");
        var bytes = (byte[])c.Bytes.Clone();
        bytes[4] = 3;
        Rejection(c, bytes)!.Message.Should().Be("Model file format version 3 is not supported by this library (it reads versions 1 and 2).");
        Rejection(SmallModels.Named("RfmModel<float>"), c.Bytes)!.Message.Should().Be("The model was saved in double precision; load it with that element type.");
        Rejection(SmallModels.Named("KernelRidgeModel<double>"), c.Bytes)!.Message.Should().Be("The file holds a 'RFM1' model, not a 'KRR1' model.");
        ((Action)(() => KernelRidgeModel<double>.Load(Path.Combine(directory, "missing.flrn")))).Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void ASaveThatFailsLeavesTheOldFileAndNoTemporaryFile()
    {
        var c = SmallModels.Named("RfmModel<double>");
        var model = (RfmModel<double>)c.Load(new MemoryStream(c.Bytes));
        string path = Path.Combine(directory, "model.flrn");
        model.Save(path);
        var good = File.ReadAllBytes(path);
        good.Should().Equal(c.Bytes);

        // Through the public API: a model with a user-defined kernel cannot be saved; the old file stays.
        var custom = new KernelRidgeModel<double>(new BoxedLaplace(), Metric.Identity, 0.1, 0, new double[6], 3, 2, new double[3], 1, null);
        ((Action)(() => custom.Save(path))).Should().Throw<NotSupportedException>().WithMessage("*BoxedLaplace*");
        File.ReadAllBytes(path).Should().Equal(good);
        Directory.GetFiles(directory).Should().Equal(path);

        // The disk fills up after the whole model was written, before it is flushed and renamed.
        ModelFile.BeforeCommit = _ => throw new IOException("No space left on device (simulated).");
        try
        {
            ((Action)(() => model.Predictor.Save(path))).Should().Throw<IOException>().WithMessage("No space left*");
        }
        finally
        {
            ModelFile.BeforeCommit = null;
        }

        File.ReadAllBytes(path).Should().Equal(good);
        Directory.GetFiles(directory).Should().Equal(path);

        // A writer that fails half-way through its bytes.
        ((Action)(() => ModelFile.SaveToFile(path, s =>
        {
            s.Write(c.Bytes.AsSpan(0, c.Bytes.Length / 2));
            throw new IOException("Input/output error (simulated).");
        }))).Should().Throw<IOException>().WithMessage("Input/output error*");
        File.ReadAllBytes(path).Should().Equal(good);
        Directory.GetFiles(directory).Should().Equal(path);

        // No directory: the error is the missing directory's, not one from cleaning up.
        ((Action)(() => model.Save(Path.Combine(directory, "missing", "model.flrn")))).Should().Throw<DirectoryNotFoundException>();
        Directory.GetFiles(directory).Should().Equal(path);

        // A save that succeeds replaces the file, and leaves nothing else behind.
        model.Predictor.Save(path);
        File.ReadAllBytes(path).Should().Equal(Saved(model.Predictor));
        KernelRidgeModel<double>.Load(path).Predict(model.Predictor.TrainingInputs).Should().Be(model.Predict(model.Predictor.TrainingInputs));
        Directory.GetFiles(directory).Should().Equal(path);
    }

    /// <summary>What <paramref name="load"/> threw (null when it returned), and the bytes this thread allocated meanwhile.</summary>
    internal static (Exception? Error, long Allocated) Measure(Func<object> load)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? error = null;
        try
        {
            load();
        }
        catch (Exception e)
        {
            error = e;
        }

        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>What loading <paramref name="bytes"/> as <paramref name="c"/>'s type threw, or null.</summary>
    internal static Exception? Rejection(ModelCase c, byte[] bytes, bool seekable = true)
        => Measure(() => c.Load(seekable ? new MemoryStream(bytes) : new NonSeekableStream(bytes))).Error;

    /// <summary>A version 2 file around <paramref name="payload"/>, with a valid checksum.</summary>
    internal static byte[] VersionTwo(string tag, byte precision, byte[] payload)
    {
        var header = new byte[19];
        "FLRN"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        System.Text.Encoding.ASCII.GetBytes(tag).CopyTo(header, 6);
        header[10] = precision;
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(11), payload.Length);
        byte[] body = [.. header, .. payload];
        return [.. body, .. SHA256.HashData(body)];
    }

    /// <summary>The version 1 file of the same model: no payload length, no checksum.</summary>
    internal static byte[] VersionOne(byte[] v2)
    {
        byte[] v1 = [.. v2[..11], .. v2[19..^32]];
        v1[4] = 1;
        return v1;
    }

    private static byte[] Patched(byte[] payload, int offset, byte[] value)
    {
        var copy = (byte[])payload.Clone();
        value.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] Saved(KernelRidgeModel<double> model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    private static void SaveFile(object model, string path)
    {
        switch (model)
        {
            case KernelRidgeModel<double> m: m.Save(path); break;
            case KernelRidgeModel<float> m: m.Save(path); break;
            case RfmModel<double> m: m.Save(path); break;
            case RfmModel<float> m: m.Save(path); break;
            case FeatureLearning.ConvRfm.ConvRfmModel<double> m: m.Save(path); break;
            case FeatureLearning.ConvRfm.ConvRfmModel<float> m: m.Save(path); break;
            case FeatureLearning.ConvRfm.DeepConvRfmModel<float> m: m.Save(path); break;
            case FeatureLearning.LinearRfm.SparseRegressionModel<double> m: m.Save(path); break;
            case FeatureLearning.LinearRfm.SparseRegressionModel<float> m: m.Save(path); break;
            case FeatureLearning.LinearRfm.MatrixCompletionModel<double> m: m.Save(path); break;
            case FeatureLearning.LinearRfm.MatrixCompletionModel<float> m: m.Save(path); break;
            case FeatureLearning.Estimators.FittedClassifier<string> m: m.Save(path); break;
            case FeatureLearning.Estimators.FittedClassifier<int> m: m.Save(path); break;
            case FeatureLearning.Estimators.FittedRegressor m: m.Save(path); break;
            case FeatureLearning.Trees.RfmTreeModel<double> m: m.Save(path); break;
            case FeatureLearning.Trees.RfmTreeModel<float> m: m.Save(path); break;
            case FeatureLearning.Trees.RfmTreeRouting m: m.Save(path); break;
            default: ((FeatureLearning.ConvRfm.DeepConvRfmModel<double>)model).Save(path); break;
        }
    }

    private static object LoadFile(string name, string path) => name switch
    {
        "KernelRidgeModel<double>" => KernelRidgeModel<double>.Load(path),
        "KernelRidgeModel<float>" => KernelRidgeModel<float>.Load(path),
        "RfmModel<double>" => RfmModel<double>.Load(path),
        "RfmModel<float>" => RfmModel<float>.Load(path),
        "ConvRfmModel<double>" => FeatureLearning.ConvRfm.ConvRfmModel<double>.Load(path),
        "ConvRfmModel<float>" => FeatureLearning.ConvRfm.ConvRfmModel<float>.Load(path),
        "DeepConvRfmModel<float>" => FeatureLearning.ConvRfm.DeepConvRfmModel<float>.Load(path),
        "SparseRegressionModel<double>" => FeatureLearning.LinearRfm.SparseRegressionModel<double>.Load(path),
        "SparseRegressionModel<float>" => FeatureLearning.LinearRfm.SparseRegressionModel<float>.Load(path),
        "MatrixCompletionModel<double>" => FeatureLearning.LinearRfm.MatrixCompletionModel<double>.Load(path),
        "MatrixCompletionModel<float>" => FeatureLearning.LinearRfm.MatrixCompletionModel<float>.Load(path),
        "FittedClassifier<string>" => FeatureLearning.Estimators.FittedClassifier<string>.Load(path),
        "FittedClassifier<int>" => FeatureLearning.Estimators.FittedClassifier<int>.Load(path),
        "FittedRegressor" => FeatureLearning.Estimators.FittedRegressor.Load(path),
        "RfmTreeModel<double>" => FeatureLearning.Trees.RfmTreeModel<double>.Load(path),
        "RfmTreeModel<float>" => FeatureLearning.Trees.RfmTreeModel<float>.Load(path),
        "RfmTreeRouting" => FeatureLearning.Trees.RfmTreeRouting.Load(path),
        _ => FeatureLearning.ConvRfm.DeepConvRfmModel<double>.Load(path),
    };

    /// <summary>A user-defined kernel: the file format does not know it (never evaluated here).</summary>
    private sealed class BoxedLaplace : IKernelFunction
    {
        public KernelGeometry Geometry => KernelGeometry.Radial;

        public bool IsDifferentiableAtZero => false;

        public string Name => nameof(BoxedLaplace);

        public double Value(double u) => Math.Exp(-Math.Sqrt(u));

        public double Derivative(double u) => throw new NotSupportedException();

        public void Evaluate<T>(ReadOnlySpan<T> u, Span<T> values)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => throw new NotSupportedException();

        public void EvaluateDerivative<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> values, Span<T> derivatives)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => throw new NotSupportedException();

        public void Validate()
        {
        }
    }
}

using System.Globalization;
using FeatureLearning.Serialization;
using Xunit.Abstractions;

namespace FeatureLearning.Tests.Serialization;

/// <summary>
/// Seeded fuzzing of every model type's reader: random truncations, 1–8 random bit flips, and 1–8 random byte
/// overwrites, read from a seekable and from a non-seekable stream. Every damaged file must end in an
/// <see cref="InvalidDataException"/> (a load succeeds only when an overwrite happened to leave the bytes as they were,
/// and then it must predict as the original), and reading must never allocate more than a small multiple of the file.
/// Each case is also applied to the payload alone and the file resealed with a valid checksum, which fuzzes the
/// bounded payload reader behind the checksum (as a crafted file would): that must load or throw
/// <see cref="InvalidDataException"/>, again within the allocation bound.
/// The case count per model type is <c>FEATURELEARNING_FUZZ_CASES</c> (default 500).
/// </summary>
public sealed class ModelFileFuzzTests(ITestOutputHelper output)
{
    private const int AllocationPerByte = 64;
    private const int AllocationConstant = 32 * 1024;

    public static TheoryData<string> Names => SmallModels.Names;

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("FEATURELEARNING_FUZZ_CASES"), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 500;

    [Theory]
    [MemberData(nameof(Names))]
    public void DamagedFilesAreAlwaysInvalidDataExceptionsWithBoundedAllocation(string name)
    {
        var c = SmallModels.Named(name);
        var rng = new Random(1000 + SmallModels.All.ToList().IndexOf(c));
        int[] kinds = new int[3];
        int rejected = 0, unchangedLoads = 0, nonSeekable = 0, resealedRejected = 0, resealedLoads = 0;
        long resealedWorst = 0;
        var payload = c.Bytes[ModelFile.HeaderLength..^ModelFile.ChecksumLength];
        string tag = System.Text.Encoding.ASCII.GetString(c.Bytes, 6, 4);
        double worstRatio = 0;
        long worstBytes = 0;
        for (int i = 0; i < Cases; i++)
        {
            int kind = i % 3;
            kinds[kind]++;
            var bytes = Damage(c.Bytes, kind, rng);
            bool seekable = rng.Next(2) == 0;
            nonSeekable += seekable ? 0 : 1;
            object? model = null;
            var (error, allocated) = ModelFileTests.Measure(() => model = c.Load(seekable ? new MemoryStream(bytes) : new NonSeekableStream(bytes)));
            string what = $"{name}, case {i} ({(kind == 0 ? "truncation" : kind == 1 ? "bit flips" : "overwrites")}, {(seekable ? "seekable" : "non-seekable")}, {bytes.Length} bytes)";
            if (bytes.AsSpan().SequenceEqual(c.Bytes))
            {
                error.Should().BeNull(what);
                c.Predict(model!).Should().Equal(c.Expected, what);
                unchangedLoads++;
            }
            else
            {
                error.Should().BeOfType<InvalidDataException>(what);
                rejected++;
            }

            allocated.Should().BeLessThan((AllocationPerByte * (long)Math.Max(bytes.Length, c.Bytes.Length)) + AllocationConstant, what);
            if (error is not null)
            {
                worstRatio = Math.Max(worstRatio, allocated / (double)Math.Max(1, bytes.Length));
                worstBytes = Math.Max(worstBytes, allocated);
            }

            var resealed = ModelFileTests.VersionTwo(tag, c.Bytes[10], Damage(payload, kind, rng));
            (error, allocated) = ModelFileTests.Measure(() => c.Load(seekable ? new MemoryStream(resealed) : new NonSeekableStream(resealed)));
            if (error is null)
            {
                resealedLoads++;
            }
            else
            {
                error.Should().BeOfType<InvalidDataException>($"{what}, resealed with a valid checksum");
                resealedRejected++;
            }

            allocated.Should().BeLessThan((AllocationPerByte * (long)resealed.Length) + AllocationConstant, $"{what}, resealed");
            resealedWorst = Math.Max(resealedWorst, allocated);
        }

        (rejected + unchangedLoads).Should().Be(Cases);
        (resealedRejected + resealedLoads).Should().Be(Cases);
        kinds.Sum().Should().Be(Cases);
        // One JSON line per model type: the raw record behind docs/reliability.md's fuzz table.
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
        {
            op = "model_file_fuzz",
            model = name,
            file_bytes = c.Bytes.Length,
            cases = Cases,
            truncations = kinds[0],
            bit_flip_cases = kinds[1],
            overwrite_cases = kinds[2],
            non_seekable = nonSeekable,
            invalid_data_exception = rejected,
            unchanged_loaded = unchangedLoads,
            other_outcomes = 0,
            largest_rejected_allocation_bytes = worstBytes,
            largest_ratio_to_damaged_file = Math.Round(worstRatio, 1),
            resealed_rejected = resealedRejected,
            resealed_loaded = resealedLoads,
            resealed_largest_allocation_bytes = resealedWorst,
        }));
    }

    /// <summary>A damaged copy: truncated (kind 0), 1–8 distinct bits flipped (1), or 1–8 bytes overwritten with random values (2).</summary>
    private static byte[] Damage(byte[] original, int kind, Random rng)
    {
        if (kind == 0)
        {
            return original[..rng.Next(original.Length)];
        }

        var bytes = (byte[])original.Clone();
        int count = rng.Next(1, 9);
        if (kind == 1)
        {
            foreach (int bit in Enumerable.Range(0, bytes.Length * 8).OrderBy(_ => rng.Next()).Take(count))
            {
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            }
        }
        else
        {
            for (int k = 0; k < count; k++)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }
        }

        return bytes;
    }
}

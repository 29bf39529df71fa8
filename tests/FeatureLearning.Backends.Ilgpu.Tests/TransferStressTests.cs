using FeatureLearning.Compute;

namespace FeatureLearning.Backends.Ilgpu.Tests;

/// <summary>
/// Host ↔ device copies while another thread forces compacting garbage collections: every upload and download must
/// move exactly the bytes of the array it was given, wherever the GC moves that array. Before the host copies were
/// pinned, this loop gave all-zero downloads, wrong uploads and segmentation faults.
/// </summary>
[Collection(nameof(TransferStressGroup))]
public sealed class TransferStressTests
{
    [Fact]
    public void CopiesStayExactWhileCollectionsMoveTheHostArrays()
    {
        // At most 2,000 round trips or 20 s: each forced collection stops every thread of the process, and with a
        // collector that never pauses a round trip took ~0.1 s (2,000 took 4 minutes on 2 cores), so the collector now
        // leaves a short random gap after each collection and the loop stops on a time budget.
        const int copies = 2000, minimumCopies = 200;
        var budget = TimeSpan.FromSeconds(20);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var backend = new IlgpuBackend();
        using var stop = new CancellationTokenSource();
        int collections = 0;
        var random = new Random(7);
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Generation 0 is where the fresh host arrays live: its collections move them, and they are cheap.
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
                Interlocked.Increment(ref collections);
                Thread.SpinWait(random.Next(50, 5000));
            }
        })
        { IsBackground = true };
        collector.Start();

        int wrongUploads = 0, wrongDownloads = 0, done = 0;
        var garbage = new List<byte[]>();
        try
        {
            using var buffer = backend.Allocate<double>(64, 33);
            for (int i = 0; i < copies && clock.Elapsed < budget; i++, done++)
            {
                // Fresh, small, unpinned arrays between other allocations, so compaction has reason to move them.
                garbage.Add(new byte[1 + (i % 97)]);
                if (garbage.Count > 200)
                {
                    garbage.RemoveRange(0, 100);
                }

                var data = new double[buffer.Length];
                for (int j = 0; j < data.Length; j++)
                {
                    data[j] = i + (j * 1e-3) + 1;
                }

                backend.Upload<double>(data, buffer);
                var back = new double[buffer.Length];
                backend.Download(buffer, back);
                if (!back.AsSpan().SequenceEqual(data))
                {
                    // Tell a wrong upload (the device holds other values) from a wrong download by reading again.
                    var again = new double[buffer.Length];
                    backend.Download(buffer, again);
                    if (again.AsSpan().SequenceEqual(data))
                    {
                        wrongDownloads++;
                    }
                    else
                    {
                        wrongUploads++;
                    }
                }
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }

        done.Should().BeGreaterThanOrEqualTo(minimumCopies, "enough round trips must run for the test to mean something");
        collections.Should().BeGreaterThan(10, "the collector thread must actually have moved memory during the copies");
        (wrongUploads, wrongDownloads).Should().Be((0, 0), $"{done} round trips under {collections} forced compacting collections");
    }
}

/// <summary>
/// The stress test's forced collections stop every thread of the process, which slows the ILGPU CPU accelerator's
/// hundreds of threads in the tests beside it; this collection runs on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(TransferStressGroup), DisableParallelization = true)]
public sealed class TransferStressGroup
{
}

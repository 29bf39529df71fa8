using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

public class ComputeThreadsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void RunExecutesEveryWorkerOnce(int workers)
    {
        // More workers than helpers run on the calling thread; each index exactly once, every time.
        for (int repeat = 0; repeat < 200; repeat++)
        {
            var counts = new int[workers];
            ComputeThreads.Run(workers, w => Interlocked.Increment(ref counts[w]));
            counts.Should().OnlyContain(c => c == 1, $"repeat {repeat}");
        }
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(5, 1)]
    [InlineData(1000, 2)]
    [InlineData(37, 16)]
    public void ForVisitsEveryIndexOnce(int count, int threads)
    {
        var counts = new int[count];
        int calls = 0;
        ComputeThreads.For(count, threads, i =>
        {
            Interlocked.Increment(ref counts[i]);
            Interlocked.Increment(ref calls);
        });
        calls.Should().Be(count);
        counts.Where(c => c != 1).Should().BeEmpty();
    }

    [Fact]
    public void ExceptionsComeBackTogetherWhenNoWorkerIsStillRunning()
    {
        // Other test classes run in parallel and may hold the helpers, in which case the region goes to the thread pool,
        // which stops starting workers after a failure: either way the call throws the workers' exceptions together and
        // returns only when no worker is still running.
        int active = 0;
        var act = () => ComputeThreads.Run(3, w =>
        {
            Interlocked.Increment(ref active);
            Thread.Sleep(20);
            Interlocked.Decrement(ref active);
            if (w != 1)
            {
                throw new InvalidOperationException($"worker {w}");
            }
        });

        var messages = act.Should().Throw<AggregateException>().Which.InnerExceptions.Select(e => e.Message).ToList();
        messages.Should().NotBeEmpty().And.BeSubsetOf(new[] { "worker 0", "worker 2" });
        Volatile.Read(ref active).Should().Be(0, "no worker runs after the call returned");

        // The helpers are free again.
        var counts = new int[2];
        ComputeThreads.Run(2, w => Interlocked.Increment(ref counts[w]));
        counts.Should().Equal(1, 1);
    }

    [Fact]
    public void NestedAndConcurrentRegionsComplete()
    {
        // A region started inside a region, and regions from several threads at once, run on the thread pool instead of
        // waiting for the helpers: every index is still visited once.
        long total = 0;
        Parallel.For(0, 8, _ =>
        {
            for (int repeat = 0; repeat < 50; repeat++)
            {
                ComputeThreads.For(6, 2, i => ComputeThreads.For(5, 2, j => Interlocked.Add(ref total, (i * 5) + j + 1)));
            }
        });

        total.Should().Be(8L * 50 * Enumerable.Range(1, 30).Sum());
    }

    [Fact]
    public void RegionsAfterTheHelpersFellAsleepStillRunEveryWorker()
    {
        // Past the 200 µs spin the helpers sleep; each region must wake the ones it needs.
        for (int repeat = 0; repeat < 20; repeat++)
        {
            Thread.Sleep(2);
            var counts = new int[3];
            ComputeThreads.Run(3, w => Interlocked.Increment(ref counts[w]));
            counts.Should().Equal(1, 1, 1);
        }

        ComputeThreads.HelperCount.Should().BeLessThanOrEqualTo(Environment.ProcessorCount - 1, "no helper spins on the caller's processor");
    }

    [Fact]
    public void ABadSettingNamesTheVariable()
    {
        ComputeThreads.Parse(null).Should().BeNull();
        ComputeThreads.Parse(" Pool ").Should().Be("pool");
        var act = () => ComputeThreads.Parse("spinning");
        act.Should().Throw<InvalidOperationException>().WithMessage("*FEATURELEARNING_CPU_THREADS*spinning*spin, pool*");
    }
}

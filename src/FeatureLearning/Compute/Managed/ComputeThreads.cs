using System.Diagnostics;

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// Runs the CPU kernels' parallel regions on dedicated helper threads that spin briefly between regions before they sleep,
/// as BLAS libraries do. A factorization or a blocked solve is a sequence of many short parallel regions separated by short
/// serial steps; handed to the thread pool, a region whose worker has gone to sleep waits for it to be woken, which in a
/// virtual machine can cost as much as a small region itself.
/// </summary>
/// <remarks>
/// <para>Worker 0 is the calling thread; workers 1 … are helpers, started as regions first ask for them (at most one fewer
/// than the processors; further workers run on the calling thread after its own; with one processor there are none, and
/// regions go to the thread pool, so that no helper spins on the caller's processor). A helper that took part in a region spins
/// for 200 µs, then sleeps until a region needs it; helpers that a region does not need are not woken. One region runs at a
/// time: a call made while another is running (from another thread, or from inside a region) runs through
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> instead, so nesting and concurrent callers stay
/// correct.</para>
/// <para>Spinning helpers use otherwise idle processors for up to 200 µs after each region; on a machine shared with other
/// work, <c>FEATURELEARNING_CPU_THREADS=pool</c> runs every region on the thread pool instead.</para>
/// <para>Exceptions thrown by the workers are collected and rethrown together as an <see cref="AggregateException"/> once
/// every worker has finished, as <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> does. The call never
/// returns while a helper still runs its part.</para>
/// </remarks>
internal static class ComputeThreads
{
    /// <summary>The environment variable that chooses the workers: <c>spin</c> (the default, the helpers here) or <c>pool</c> (every region on the thread pool).</summary>
    public const string Variable = "FEATURELEARNING_CPU_THREADS";

    private static readonly Lazy<bool> PoolFromEnvironment = new(() => Parse(Environment.GetEnvironmentVariable(Variable)) == "pool");

    /// <summary>How long a helper spins for the next region before it sleeps: 200 µs.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;

    private static readonly Lock StartGate = new();
    private static readonly int MaxHelpers = Environment.ProcessorCount - 1;
    private static Helper[] helpers = [];
    private static int running;
    private static long generations;

    // The current region: a new object per region, published with a full fence, so a helper always reads a region's work,
    // worker count and generation together; cleared when the region is over.
    private static Region? current;

    [ThreadStatic]
    private static bool isHelper;

    /// <summary>The accepted values of <see cref="Variable"/>.</summary>
    public static IReadOnlyList<string> Accepted { get; } = ["spin", "pool"];

    /// <summary>Whether this process runs every region on the thread pool (<see cref="Variable"/> = <c>pool</c>).</summary>
    /// <exception cref="InvalidOperationException">The variable holds a value that is not accepted.</exception>
    public static bool UsesPool => PoolFromEnvironment.Value;

    /// <summary>The helper threads started so far (for tests).</summary>
    internal static int HelperCount => Volatile.Read(ref helpers).Length;

    /// <summary>The setting a value of <see cref="Variable"/> asks for (null: the default).</summary>
    /// <exception cref="InvalidOperationException">The value is not accepted.</exception>
    public static string? Parse(string? value) => EnvironmentSetting.Parse(Variable, value, Accepted);

    /// <summary>Runs <paramref name="body"/>(w) for w = 0 … <paramref name="workers"/> − 1 in parallel, worker 0 on the calling thread.</summary>
    /// <exception cref="AggregateException">A worker threw.</exception>
    public static void Run(int workers, Action<int> body)
    {
        if (workers <= 1)
        {
            body(0);
            return;
        }

        if (isHelper || UsesPool || MaxHelpers < 1 || Interlocked.CompareExchange(ref running, 1, 0) != 0)
        {
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, body);
            return;
        }

        Region? region = null;
        Helper[] team = [];
        try
        {
            team = Helpers(workers - 1);
            int extra = Math.Min(workers - 1, team.Length);
            region = new Region(body, extra, ++generations);
            Interlocked.Exchange(ref current, region);
            for (int h = 0; h < extra; h++)
            {
                team[h].WakeIfAsleep();
            }

            // Worker 0, then the workers beyond the helpers, on this thread.
            region.Execute(0);
            for (int w = extra + 1; w < workers; w++)
            {
                region.Execute(w);
            }
        }
        finally
        {
            // Even if something above threw, the helpers finish their parts before the caller frees what they use.
            if (region is not null)
            {
                for (int h = 0; h < region.Helpers; h++)
                {
                    team[h].WakeIfAsleep();
                }

                var spin = default(SpinWait);
                while (Volatile.Read(ref region.Pending) > 0)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                Volatile.Write(ref current, null);
            }

            Volatile.Write(ref running, 0);
        }

        if (region.Failures is { } thrown)
        {
            throw new AggregateException(thrown);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(i) for i = 0 … <paramref name="count"/> − 1 on at most <paramref name="threads"/> workers,
    /// each taking the next index until none is left.
    /// </summary>
    /// <exception cref="AggregateException">A call of <paramref name="body"/> threw.</exception>
    public static void For(int count, int threads, Action<int> body)
    {
        int workers = Math.Min(count, Math.Max(1, threads));
        if (workers <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        int next = -1;
        Run(workers, _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                body(i);
            }
        });
    }

    /// <summary>The first <paramref name="wanted"/> helpers (fewer where the processors run out), started on first need.</summary>
    private static Helper[] Helpers(int wanted)
    {
        var team = Volatile.Read(ref helpers);
        if (team.Length >= Math.Min(wanted, MaxHelpers))
        {
            return team;
        }

        lock (StartGate)
        {
            team = helpers;
            int count = Math.Min(wanted, MaxHelpers);
            if (team.Length < count)
            {
                var grown = new Helper[count];
                team.CopyTo(grown, 0);
                for (int h = team.Length; h < count; h++)
                {
                    grown[h] = new Helper(h);
                }

                Volatile.Write(ref helpers, grown);
                team = grown;
            }

            return team;
        }
    }

    /// <summary>One helper thread: worker index + 1 of every region that needs it.</summary>
    private sealed class Helper
    {
        private readonly int index;
        private readonly object gate = new();
        private int asleep;

        public Helper(int index)
        {
            this.index = index;
            new Thread(Loop) { IsBackground = true, Name = $"FeatureLearning compute {index + 1}" }.Start();
        }

        /// <summary>Wakes the helper if it sleeps (its region is already published).</summary>
        public void WakeIfAsleep()
        {
            if (Volatile.Read(ref asleep) != 0)
            {
                lock (gate)
                {
                    Monitor.Pulse(gate);
                }
            }
        }

        private bool Waiting(long seen, out Region? region)
        {
            region = Volatile.Read(ref current);
            return region is null || region.Generation == seen || index >= region.Helpers;
        }

        private void Loop()
        {
            isHelper = true;
            long seen = 0;
            while (true)
            {
                // Spin for the next region that needs this helper, then sleep until one wakes it.
                long start = Stopwatch.GetTimestamp();
                Region? region;
                while (Waiting(seen, out region))
                {
                    if (Stopwatch.GetTimestamp() - start < SpinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }

                    lock (gate)
                    {
                        Interlocked.Exchange(ref asleep, 1);
                        while (Waiting(seen, out region))
                        {
                            Monitor.Wait(gate);
                        }

                        Interlocked.Exchange(ref asleep, 0);
                    }
                }

                seen = region!.Generation;
                try
                {
                    region.Execute(index + 1);
                }
                finally
                {
                    Interlocked.Decrement(ref region.Pending);
                }
            }
        }
    }

    /// <summary>One parallel region: its work, how many helpers take part, and what is left of it.</summary>
    private sealed class Region(Action<int> work, int helpers, long generation)
    {
        public readonly long Generation = generation;
        public readonly int Helpers = helpers;
        public int Pending = helpers;
        public List<Exception>? Failures;
        private readonly Lock failuresGate = new();

        public void Execute(int w)
        {
            try
            {
                work(w);
            }
            catch (Exception e)
            {
                lock (failuresGate)
                {
                    (Failures ??= []).Add(e);
                }
            }
        }
    }
}

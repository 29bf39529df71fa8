using System.Diagnostics;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <summary>
/// Where the backend's time goes: kernel compilation, host-to-device and device-to-host copies, kernel launches and
/// vendor-library calls (counted, with the host time spent issuing them) and, when <see cref="SplitTimings"/> is on, the
/// time spent waiting for the device to finish each launch. Counters only: reading them costs nothing on the device.
/// </summary>
internal sealed class DeviceClock(Accelerator accelerator)
{
    private long compileTicks;
    private long kernelsCompiled;
    private long launches;
    private long libraryCalls;
    private long launchTicks;
    private long computeTicks;
    private long transfers;
    private long transferBytes;
    private long transferTicks;

    /// <summary>Whether every launch and library call is followed by a synchronization whose wait is counted as compute.</summary>
    public bool SplitTimings { get; set; }

    /// <summary>Compiles a kernel (the loader ILGPU runs on first use) and counts the time as compilation.</summary>
    public TDelegate Compile<TDelegate>(Func<TDelegate> load)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return load();
        }
        finally
        {
            Interlocked.Add(ref compileTicks, Stopwatch.GetTimestamp() - start);
            Interlocked.Increment(ref kernelsCompiled);
        }
    }

    /// <summary>Times one launch of an ILGPU kernel or one vendor-library call until the returned scope is disposed.</summary>
    public LaunchScope Launch(bool library = false) => new(this, library);

    /// <summary>Times one host copy of <paramref name="bytes"/> bytes until the returned scope is disposed; with split timings the device is drained first and the wait counted as compute.</summary>
    public TransferScope Transfer(long bytes)
    {
        if (SplitTimings)
        {
            Drain();
        }

        return new TransferScope(this, bytes);
    }

    /// <summary>The counters now.</summary>
    public IlgpuTimings Snapshot() => new()
    {
        CompileSeconds = Seconds(Volatile.Read(ref compileTicks)),
        KernelsCompiled = Volatile.Read(ref kernelsCompiled),
        Launches = Volatile.Read(ref launches),
        LibraryCalls = Volatile.Read(ref libraryCalls),
        LaunchSeconds = Seconds(Volatile.Read(ref launchTicks)),
        ComputeSeconds = Seconds(Volatile.Read(ref computeTicks)),
        Transfers = Volatile.Read(ref transfers),
        TransferBytes = Volatile.Read(ref transferBytes),
        TransferSeconds = Seconds(Volatile.Read(ref transferTicks)),
        Split = SplitTimings,
    };

    /// <summary>Sets every counter to zero.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref compileTicks, 0);
        Interlocked.Exchange(ref kernelsCompiled, 0);
        Interlocked.Exchange(ref launches, 0);
        Interlocked.Exchange(ref libraryCalls, 0);
        Interlocked.Exchange(ref launchTicks, 0);
        Interlocked.Exchange(ref computeTicks, 0);
        Interlocked.Exchange(ref transfers, 0);
        Interlocked.Exchange(ref transferBytes, 0);
        Interlocked.Exchange(ref transferTicks, 0);
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    /// <summary>Waits for the device and counts the wait as compute.</summary>
    private void Drain()
    {
        long start = Stopwatch.GetTimestamp();
        accelerator.Synchronize();
        Interlocked.Add(ref computeTicks, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>One launch or library call being timed.</summary>
    public readonly struct LaunchScope : IDisposable
    {
        private readonly DeviceClock clock;
        private readonly long start;
        private readonly long compiledBefore;
        private readonly bool library;

        internal LaunchScope(DeviceClock clock, bool library)
        {
            this.clock = clock;
            this.library = library;
            compiledBefore = Volatile.Read(ref clock.compileTicks);
            start = Stopwatch.GetTimestamp();
        }

        /// <summary>Counts the launch: host time minus any compilation inside it; with split timings, then waits for the device.</summary>
        public void Dispose()
        {
            long elapsed = Stopwatch.GetTimestamp() - start - (Volatile.Read(ref clock.compileTicks) - compiledBefore);
            Interlocked.Add(ref clock.launchTicks, Math.Max(0, elapsed));
            Interlocked.Increment(ref library ? ref clock.libraryCalls : ref clock.launches);
            if (clock.SplitTimings)
            {
                clock.Drain();
            }
        }
    }

    /// <summary>One host copy being timed.</summary>
    public readonly struct TransferScope : IDisposable
    {
        private readonly DeviceClock clock;
        private readonly long start;
        private readonly long bytes;

        internal TransferScope(DeviceClock clock, long bytes)
        {
            this.clock = clock;
            this.bytes = bytes;
            start = Stopwatch.GetTimestamp();
        }

        /// <summary>Counts the copy.</summary>
        public void Dispose()
        {
            Interlocked.Add(ref clock.transferTicks, Stopwatch.GetTimestamp() - start);
            Interlocked.Add(ref clock.transferBytes, bytes);
            Interlocked.Increment(ref clock.transfers);
        }
    }
}

namespace FeatureLearning.Compute.Managed;

/// <summary>
/// Keeps the pinned arrays of disposed buffers for reuse by later allocations of the same length, so that iterative
/// algorithms (an RFM round allocates the same n × n buffers each time) neither page-fault fresh memory nor trigger
/// full garbage collections. Bounded by a byte budget; the oldest arrays are dropped first.
/// </summary>
/// <remarks>
/// An array larger than the budget (at n = 30,000 a single-precision n × n factor is 3.6 GB) is dropped when its buffer
/// is disposed. The garbage collector does not see the memory pressure of such arrays soon enough: an exact RFM at
/// n = 30,000 grew by one dropped factor per round until the machine ran out of memory. So the pool counts the large
/// arrays it drops and, before it allocates a large array while at least that many bytes of dropped arrays may still be
/// live, runs a full blocking collection first.
/// </remarks>
internal sealed class PinnedArrayPool
{
    private readonly Lock gate = new();
    private readonly LinkedList<(Type Type, int Length, long Bytes, Array Array)> arrays = new();
    private readonly long budgetBytes;
    private long heldBytes;
    private long droppedBytes;
    private bool closed;

    /// <summary>Arrays of at least this many bytes count as large (see the remarks).</summary>
    internal const long LargeArrayBytes = 64L << 20;

    public PinnedArrayPool(long budgetBytes) => this.budgetBytes = budgetBytes;

    public long BudgetBytes => budgetBytes;

    public T[] Rent<T>(int length)
        where T : unmanaged
    {
        if (length > 0)
        {
            lock (gate)
            {
                for (var node = arrays.Last; node is not null; node = node.Previous)
                {
                    if (node.Value.Type == typeof(T) && node.Value.Length == length)
                    {
                        arrays.Remove(node);
                        heldBytes -= Bytes<T>(length);
                        return (T[])node.Value.Array;
                    }
                }
            }
        }

        long bytes = Bytes<T>(length);
        if (bytes >= LargeArrayBytes && Interlocked.Read(ref droppedBytes) >= bytes)
        {
            Interlocked.Exchange(ref droppedBytes, 0);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        }

        return GC.AllocateUninitializedArray<T>(length, pinned: true);
    }

    public void Return<T>(T[] array)
        where T : unmanaged
    {
        long bytes = Bytes<T>(array.Length);
        if (array.Length == 0)
        {
            return;
        }

        if (bytes > budgetBytes)
        {
            Dropped(bytes);
            return;
        }

        lock (gate)
        {
            if (closed)
            {
                Dropped(bytes);
                return;
            }

            arrays.AddLast((typeof(T), array.Length, bytes, array));
            heldBytes += bytes;
            while (heldBytes > budgetBytes && arrays.First is { } oldest)
            {
                arrays.RemoveFirst();
                heldBytes -= oldest.Value.Bytes;
                Dropped(oldest.Value.Bytes);
            }
        }
    }

    /// <summary>Drops the held arrays and keeps none returned later (the backend is disposed).</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            arrays.Clear();
            heldBytes = 0;
        }
    }

    /// <summary>Counts a dropped array towards the next collection when it is large.</summary>
    private void Dropped(long bytes)
    {
        if (bytes >= LargeArrayBytes)
        {
            Interlocked.Add(ref droppedBytes, bytes);
        }
    }

    private static unsafe long Bytes<T>(int length)
        where T : unmanaged => (long)length * sizeof(T);
}

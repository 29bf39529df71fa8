namespace FeatureLearning.Compute.Managed;

/// <summary>
/// Keeps the pinned arrays of disposed buffers for reuse by later allocations of the same length, so that iterative
/// algorithms (an RFM round allocates the same n × n buffers each time) neither page-fault fresh memory nor trigger
/// full garbage collections. Bounded by a byte budget; the oldest arrays are dropped first.
/// </summary>
internal sealed class PinnedArrayPool
{
    private readonly Lock gate = new();
    private readonly LinkedList<(Type Type, int Length, long Bytes, Array Array)> arrays = new();
    private readonly long budgetBytes;
    private long heldBytes;
    private bool closed;

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

        return GC.AllocateUninitializedArray<T>(length, pinned: true);
    }

    public void Return<T>(T[] array)
        where T : unmanaged
    {
        long bytes = Bytes<T>(array.Length);
        if (array.Length == 0 || bytes > budgetBytes)
        {
            return;
        }

        lock (gate)
        {
            if (closed)
            {
                return;
            }

            arrays.AddLast((typeof(T), array.Length, bytes, array));
            heldBytes += bytes;
            while (heldBytes > budgetBytes && arrays.First is { } oldest)
            {
                arrays.RemoveFirst();
                heldBytes -= oldest.Value.Bytes;
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

    private static unsafe long Bytes<T>(int length)
        where T : unmanaged => (long)length * sizeof(T);
}

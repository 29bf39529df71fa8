using FeatureLearning.LinearRfm;

namespace FeatureLearning.Serialization;

/// <summary>The lin-RFM pieces of the model format (<c>docs/file-format.md</c>): the iteration history of both lin-RFM models.</summary>
internal static class LinearRfmFile
{
    /// <summary>Bytes of one history record: one int32 and six doubles.</summary>
    private const int HistoryRecordLength = 52;

    /// <summary>int32 count, then per iteration: int32 iteration, then TrainMse, HeldOutMse, UnobservedMse, RelativeWeightError, Ridge, Seconds as doubles.</summary>
    public static void WriteHistory(BinaryWriter w, IReadOnlyList<LinearRfmIteration> history)
    {
        w.Write(history.Count);
        foreach (var h in history)
        {
            w.Write(h.Iteration);
            foreach (double v in new[] { h.TrainMse, h.HeldOutMse, h.UnobservedMse, h.RelativeWeightError, h.Ridge, h.Seconds })
            {
                w.Write(v);
            }
        }
    }

    /// <summary>Reads what <see cref="WriteHistory"/> wrote; the count is bounded by the bytes left.</summary>
    public static LinearRfmIteration[] ReadHistory(ModelReader r)
    {
        int count = r.ReadCount("lin-RFM history records", HistoryRecordLength);
        var history = new LinearRfmIteration[count];
        for (int i = 0; i < count; i++)
        {
            int iteration = r.ReadInt32("history iteration", 0);
            var v = new double[6];
            for (int k = 0; k < v.Length; k++)
            {
                v[k] = r.ReadDouble("history value");
            }

            history[i] = new LinearRfmIteration(iteration, v[0], v[1], v[2], v[3], v[4], v[5]);
        }

        return history;
    }

    /// <summary>Reads the selected iteration: −1 for none, otherwise an index into the history.</summary>
    public static int ReadSelectedIteration(ModelReader r, int historyCount)
    {
        long at = r.Position;
        int selected = r.ReadInt32("selected iteration");
        if (selected < -1 || selected >= historyCount)
        {
            throw ModelReader.Corrupt($"the selected iteration {selected} at byte {at} is not one of the {historyCount} recorded iterations.");
        }

        return selected;
    }
}

namespace FeatureLearning.Samples;

/// <summary>A counting progress bar on standard error (standard output stays free for tables or JSON).</summary>
internal sealed class ProgressBar(int total)
{
    private readonly bool enabled = !Console.IsErrorRedirected;
    private int done;

    public void Step()
    {
        done++;
        if (!enabled)
        {
            return;
        }

        const int width = 30;
        int filled = width * Math.Min(done, total) / total;
        Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {done}/{total}");
        if (done == total)
        {
            Console.Error.WriteLine();
        }
    }
}

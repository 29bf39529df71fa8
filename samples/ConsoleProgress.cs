using FeatureLearning.Rfm;

namespace FeatureLearning.Samples;

/// <summary>A synchronous progress bar on standard error (standard output stays free for tables or JSON).</summary>
internal sealed class ConsoleProgress : IProgress<RfmIteration>
{
    private readonly bool enabled = !Console.IsErrorRedirected;

    public void Report(RfmIteration value)
    {
        const int width = 30;
        int done = (int)Math.Round(width * (value.Iteration + 1.0) / value.Iterations);
        string bar = new string('#', done) + new string('.', width - done);
        string acc = double.IsNaN(value.ValidationAccuracy) ? string.Empty : $" test acc {value.ValidationAccuracy,7:P2}";
        string line = $"\r[{bar}] round {value.Iteration,3} of 0–{value.Iterations - 1}{acc}  {value.Seconds,5:F2} s";
        if (enabled)
        {
            Console.Error.Write(line);
            if (value.Iteration + 1 == value.Iterations)
            {
                Console.Error.WriteLine();
            }
        }
    }
}

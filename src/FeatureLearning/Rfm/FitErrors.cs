using System.Numerics;

namespace FeatureLearning.Rfm;

/// <summary>The errors every RFM variant records per round: mean squared error and, for several outputs, arg-max accuracy.</summary>
internal static class FitErrors
{
    /// <summary>MSE over all entries and the fraction of rows whose arg max agrees (NaN for a single output).</summary>
    public static (double Mse, double Accuracy) Compute<T>(ReadOnlySpan<double> predictions, ReadOnlySpan<T> targets, int rows, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sse = 0;
        int hits = 0;
        for (int i = 0; i < rows; i++)
        {
            int argPred = 0, argTrue = 0;
            for (int j = 0; j < outputs; j++)
            {
                double p = predictions[(i * outputs) + j], t = double.CreateTruncating(targets[(i * outputs) + j]);
                sse += (p - t) * (p - t);
                argPred = p > predictions[(i * outputs) + argPred] ? j : argPred;
                argTrue = t > double.CreateTruncating(targets[(i * outputs) + argTrue]) ? j : argTrue;
            }

            hits += argPred == argTrue ? 1 : 0;
        }

        return (sse / ((double)rows * outputs), outputs > 1 ? (double)hits / rows : double.NaN);
    }
}

namespace FeatureLearning.Networks;

/// <summary>
/// The losses of <see cref="NetworkLoss"/> and their first two derivatives in the outputs, on the host in double precision
/// (they touch only the n × c outputs; everything over the parameters runs on the backend).
/// </summary>
internal static class LossFunctions
{
    /// <summary>The loss of outputs f against targets y (both n × c, row-major); writes ∂L/∂f into <paramref name="gradient"/> when it is not empty.</summary>
    public static double Evaluate(NetworkLoss loss, ReadOnlySpan<double> f, ReadOnlySpan<double> y, int n, int c, Span<double> gradient)
    {
        double total = 0;
        bool withGradient = !gradient.IsEmpty;
        if (loss == NetworkLoss.MeanSquaredError)
        {
            for (int i = 0; i < f.Length; i++)
            {
                double r = f[i] - y[i];
                total += r * r;
                if (withGradient)
                {
                    gradient[i] = r / n;
                }
            }

            return total / (2.0 * n);
        }

        Span<double> p = c <= 256 ? stackalloc double[c] : new double[c];
        for (int i = 0; i < n; i++)
        {
            var fi = f.Slice(i * c, c);
            var yi = y.Slice(i * c, c);
            double lse = Softmax(fi, p), s = 0, dot = 0;
            for (int k = 0; k < c; k++)
            {
                s += yi[k];
                dot += yi[k] * fi[k];
            }

            total += (s * lse) - dot;
            if (withGradient)
            {
                for (int k = 0; k < c; k++)
                {
                    gradient[(i * c) + k] = ((s * p[k]) - yi[k]) / n;
                }
            }
        }

        return total / n;
    }

    /// <summary>R{∂L/∂f} = (∂²L/∂f²)·ḟ for an output tangent ḟ (n × c), written into <paramref name="result"/>.</summary>
    public static void Curvature(NetworkLoss loss, ReadOnlySpan<double> f, ReadOnlySpan<double> y, ReadOnlySpan<double> tangent, int n, int c, Span<double> result)
    {
        if (loss == NetworkLoss.MeanSquaredError)
        {
            for (int i = 0; i < tangent.Length; i++)
            {
                result[i] = tangent[i] / n;
            }

            return;
        }

        Span<double> p = c <= 256 ? stackalloc double[c] : new double[c];
        for (int i = 0; i < n; i++)
        {
            Softmax(f.Slice(i * c, c), p);
            double s = 0, pt = 0;
            for (int k = 0; k < c; k++)
            {
                s += y[(i * c) + k];
                pt += p[k] * tangent[(i * c) + k];
            }

            for (int k = 0; k < c; k++)
            {
                result[(i * c) + k] = s * p[k] * (tangent[(i * c) + k] - pt) / n;
            }
        }
    }

    /// <summary>p = softmax(f) (stable); returns log Σ e^(f_k).</summary>
    private static double Softmax(ReadOnlySpan<double> f, Span<double> p)
    {
        double max = double.NegativeInfinity;
        foreach (double v in f)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        for (int k = 0; k < f.Length; k++)
        {
            p[k] = Math.Exp(f[k] - max);
            sum += p[k];
        }

        for (int k = 0; k < f.Length; k++)
        {
            p[k] /= sum;
        }

        return max + Math.Log(sum);
    }
}

namespace FeatureLearning.Networks;

/// <summary>
/// Where layer l's parameters sit in the flat vector and how the forward pass scales them: W_l (fan_out × fan_in, row-major)
/// at <see cref="WeightOffset"/>, then b_l (fan_out) at <see cref="BiasOffset"/>; z = <see cref="WeightScale"/>·W·h +
/// <see cref="BiasScale"/>·b.
/// </summary>
internal readonly record struct LayerLayout(int FanIn, int FanOut, int WeightOffset, int BiasOffset, double WeightScale, double BiasScale)
{
    /// <summary>The layouts of every layer of <paramref name="architecture"/>, in order.</summary>
    public static LayerLayout[] Of(NetworkArchitecture architecture)
    {
        var layers = new LayerLayout[architecture.LayerCount];
        int offset = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            int fanIn = architecture.FanIn(l), fanOut = architecture.FanOut(l);
            bool ntk = architecture.Parameterization == Parameterization.Ntk;
            double a = ntk ? architecture.WeightStd / Math.Sqrt(fanIn) : 1.0;
            double c = ntk ? architecture.BiasStd : 1.0;
            if (l == layers.Length - 1)
            {
                a *= architecture.OutputScale;
                c *= architecture.OutputScale;
            }

            layers[l] = new LayerLayout(fanIn, fanOut, offset, offset + (fanOut * fanIn), a, c);
            offset += fanOut * (fanIn + 1);
        }

        return layers;
    }
}

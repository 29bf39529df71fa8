namespace FeatureLearning.Networks;

/// <summary>
/// The shape and scaling of a <see cref="FullyConnectedNetwork{T}"/>: input dimension d, hidden widths n₁ … n_L (each
/// followed by the activation), output dimension c (a linear readout), the parameterisation and the scales σ_w, σ_b and the
/// output scale α.
/// </summary>
/// <remarks>
/// Layer l (l = 0 … L) maps its input h_l (h₀ = x) to z_l = a_l·W_l·h_l + c_l·b_l with W_l of fan_out × fan_in, and
/// h_(l+1) = φ(z_l) for l &lt; L; the output is f = z_L. For <see cref="Parameterization.Ntk"/>, a_l = σ_w/√fan_in and
/// c_l = σ_b; for <see cref="Parameterization.Standard"/>, a_l = c_l = 1. The readout's a_L and c_L are further multiplied
/// by <see cref="OutputScale"/> (the down-scaled last layer of the mean-field and μP papers).
/// </remarks>
public sealed record NetworkArchitecture
{
    /// <summary>The input dimension d (≥ 1).</summary>
    public required int InputDimension { get; init; }

    /// <summary>The hidden widths n₁ … n_L (each ≥ 1); empty for a linear model f = a·Wx + c·b.</summary>
    public IReadOnlyList<int> HiddenWidths { get; init; } = [];

    /// <summary>The output dimension c (≥ 1). Default 1.</summary>
    public int OutputDimension { get; init; } = 1;

    /// <summary>The activation φ after every hidden layer. Default ReLU.</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>Where the weight scale lives. Default <see cref="Parameterization.Ntk"/>.</summary>
    public Parameterization Parameterization { get; init; } = Parameterization.Ntk;

    /// <summary>σ_w, the weight standard deviation (positive, finite). Default 1.</summary>
    public double WeightStd { get; init; } = 1.0;

    /// <summary>σ_b, the bias standard deviation (finite, ≥ 0). Default 0: in the NTK parameterisation that switches the biases off (their scale and gradients are 0); in the standard one they start at 0 and train.</summary>
    public double BiasStd { get; init; }

    /// <summary>α, the factor on the readout layer's output (positive, finite). Default 1.</summary>
    public double OutputScale { get; init; } = 1.0;

    /// <summary>The number of layers with weights, L + 1 (hidden layers and the readout).</summary>
    public int LayerCount => (HiddenWidths?.Count ?? 0) + 1;

    /// <summary>The number of parameters P = Σ_l fan_out·(fan_in + 1).</summary>
    public int ParameterCount
    {
        get
        {
            long p = 0;
            for (int l = 0; l < LayerCount; l++)
            {
                p += (long)FanOut(l) * (FanIn(l) + 1);
            }

            return checked((int)p);
        }
    }

    /// <summary>The input width of layer <paramref name="layer"/> (d for layer 0, n_l otherwise).</summary>
    /// <param name="layer">0 … <see cref="LayerCount"/> − 1.</param>
    /// <returns>fan_in.</returns>
    public int FanIn(int layer)
    {
        CheckLayer(layer, LayerCount - 1);
        return layer == 0 ? InputDimension : HiddenWidths[layer - 1];
    }

    /// <summary>The output width of layer <paramref name="layer"/> (n_(l+1), or c for the readout).</summary>
    /// <param name="layer">0 … <see cref="LayerCount"/> − 1.</param>
    /// <returns>fan_out.</returns>
    public int FanOut(int layer)
    {
        CheckLayer(layer, LayerCount - 1);
        return layer == LayerCount - 1 ? OutputDimension : HiddenWidths[layer];
    }

    /// <summary>Throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) naming the bad property.</summary>
    public void Validate()
    {
        if (InputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InputDimension), InputDimension, "The input dimension must be at least 1.");
        }

        if (HiddenWidths is null)
        {
            throw new ArgumentNullException(nameof(HiddenWidths), "The hidden widths may be empty but not null.");
        }

        for (int i = 0; i < HiddenWidths.Count; i++)
        {
            if (HiddenWidths[i] < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(HiddenWidths), HiddenWidths[i], $"Hidden width {i} is {HiddenWidths[i]}: every width must be at least 1.");
            }
        }

        if (OutputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputDimension), OutputDimension, "The output dimension must be at least 1.");
        }

        Activation.Validate();
        Validation.DefinedEnum(Parameterization, nameof(Parameterization));
        Validation.PositiveFinite(WeightStd, nameof(WeightStd), "weight standard deviation σ_w");
        Validation.NonNegativeFinite(BiasStd, nameof(BiasStd), "bias standard deviation σ_b");
        Validation.PositiveFinite(OutputScale, nameof(OutputScale), "output scale");
        try
        {
            _ = ParameterCount;
        }
        catch (OverflowException)
        {
            throw new ArgumentException("The network has more than 2³¹ − 1 parameters.", nameof(HiddenWidths));
        }
    }

    private static void CheckLayer(int layer, int last)
    {
        if (layer < 0 || layer > last)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The layer must be between 0 and {last}.");
        }
    }

    /// <summary>
    /// Whether two architectures describe the same network shape and parameterisation, comparing the hidden widths element
    /// by element (record equality compares the <see cref="HiddenWidths"/> list by reference).
    /// </summary>
    internal static bool SameShape(NetworkArchitecture a, NetworkArchitecture b) =>
        a.InputDimension == b.InputDimension && a.OutputDimension == b.OutputDimension && a.HiddenWidths.SequenceEqual(b.HiddenWidths)
        && a.Activation == b.Activation && a.Parameterization == b.Parameterization
        && a.WeightStd.Equals(b.WeightStd) && a.BiasStd.Equals(b.BiasStd) && a.OutputScale.Equals(b.OutputScale);
}

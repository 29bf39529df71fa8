using FeatureLearning.Compute;

namespace FeatureLearning.Networks;

/// <content>
/// The device passes: forward (keeping pre-activations), reverse (deltas and layer-input gradients), forward-mode tangents,
/// and the R-operator of the reverse pass. Notation: layer l maps h_l (h₀ = X) to z_l = a_l·h_l·W_lᵀ + c_l·1·b_lᵀ,
/// h_(l+1) = φ(z_l), f = z_L; Δ_l = ∂/∂z_l and g_l = ∂/∂h_l of a cotangent G on f.
/// </content>
public sealed partial class FullyConnectedNetwork<T>
{
    private T WeightScale(int l) => T.CreateTruncating(layers[l].WeightScale);

    private T BiasScale(int l) => T.CreateTruncating(layers[l].BiasScale);

    private int Last => layers.Length - 1;

    /// <summary>Forward pass: h_l and z_l for every layer (h₀ is <paramref name="x"/> itself).</summary>
    private Trace ForwardTrace(DeviceBuffer<T> x, BufferScope<T> scope)
    {
        int n = x.Rows;
        var ones = scope.Ones(n, 1);
        var h = new DeviceBuffer<T>[layers.Length];
        var z = new DeviceBuffer<T>[layers.Length];
        h[0] = x;
        for (int l = 0; l < layers.Length; l++)
        {
            z[l] = scope.Allocate(n, layers[l].FanOut);
            Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), h[l], WeightsOf(parameters, layers[l]), T.Zero, z[l]);
            AddBias(l, parameters, ones, z[l]);
            if (l < Last)
            {
                h[l + 1] = scope.Allocate(n, layers[l].FanOut);
                Backend.ApplyActivation(Architecture.Activation, 0, z[l], h[l + 1]);
            }
        }

        return new Trace(h, z, ones);
    }

    /// <summary>z ← z + c_l·1·bᵀ for the biases of layer l in the parameter-shaped buffer <paramref name="flat"/>.</summary>
    private void AddBias(int l, DeviceBuffer<T> flat, DeviceBuffer<T> ones, DeviceBuffer<T> z)
    {
        if (layers[l].BiasScale != 0)
        {
            Backend.Gemm(Transpose.None, Transpose.None, BiasScale(l), ones, BiasesOf(flat, layers[l]), T.One, z);
        }
    }

    /// <summary>The parameter gradient of layer l in <paramref name="gradient"/>: a_l·Δᵀh (+ a_l·Δ2ᵀh2) and c_l·Δᵀ1.</summary>
    private void LayerGradient(int l, Trace t, DeviceBuffer<T> delta, DeviceBuffer<T> input, DeviceBuffer<T>? delta2, DeviceBuffer<T>? input2, DeviceBuffer<T> gradient)
    {
        var w = WeightsOf(gradient, layers[l]);
        Backend.Gemm(Transpose.Transpose, Transpose.None, WeightScale(l), delta, input, T.Zero, w);
        if (delta2 is not null && input2 is not null)
        {
            Backend.Gemm(Transpose.Transpose, Transpose.None, WeightScale(l), delta2, input2, T.One, w);
        }

        var b = BiasesOf(gradient, layers[l]).Reshape(layers[l].FanOut, 1);
        if (layers[l].BiasScale != 0)
        {
            Backend.Gemm(Transpose.Transpose, Transpose.None, BiasScale(l), delta, t.Ones, T.Zero, b);
        }
        else
        {
            Backend.Scale(T.Zero, b);
        }
    }

    /// <summary>
    /// Reverse pass of the cotangent <paramref name="cotangent"/> (n × c) from the output down to layer
    /// <paramref name="lowest"/>: Δ_l for l ≥ lowest, g_l for l &gt; lowest (and for l = lowest when
    /// <paramref name="inputGradientAtLowest"/>), and the parameter gradient into <paramref name="gradient"/> when given
    /// (then <paramref name="lowest"/> must be 0).
    /// </summary>
    private Backprop Backward(Trace t, DeviceBuffer<T> cotangent, DeviceBuffer<T>? gradient, int lowest, bool inputGradientAtLowest, BufferScope<T> scope)
    {
        int n = cotangent.Rows;
        var deltas = new DeviceBuffer<T>[layers.Length];
        var inputGradients = new DeviceBuffer<T>?[layers.Length];
        deltas[Last] = cotangent;
        for (int l = Last; l >= lowest; l--)
        {
            if (gradient is not null)
            {
                LayerGradient(l, t, deltas[l], t.H[l], null, null, gradient);
            }

            if (l > lowest || inputGradientAtLowest)
            {
                var g = scope.Allocate(n, layers[l].FanIn);
                Backend.Gemm(Transpose.None, Transpose.None, WeightScale(l), deltas[l], WeightsOf(parameters, layers[l]), T.Zero, g);
                inputGradients[l] = g;
            }

            if (l > lowest)
            {
                var d = scope.Allocate(n, layers[l].FanIn);
                Backend.ApplyActivation(Architecture.Activation, 1, t.Z[l - 1], d);
                Backend.Hadamard(inputGradients[l]!, d, d);
                deltas[l - 1] = d;
            }
        }

        return new Backprop(deltas, inputGradients);
    }

    /// <summary>Forward-mode tangents of the parameter direction <paramref name="direction"/> (P × 1): ż_l and ḣ_l (ḣ₀ = null).</summary>
    private Tangents TangentPass(Trace t, DeviceBuffer<T> direction, BufferScope<T> scope)
    {
        int n = t.H[0].Rows;
        var zDot = new DeviceBuffer<T>[layers.Length];
        var hDot = new DeviceBuffer<T>?[layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            var zd = scope.Allocate(n, layers[l].FanOut);
            Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), t.H[l], WeightsOf(direction, layers[l]), T.Zero, zd);
            if (hDot[l] is { } hd)
            {
                Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), hd, WeightsOf(parameters, layers[l]), T.One, zd);
            }

            AddBias(l, direction, t.Ones, zd);
            zDot[l] = zd;
            if (l < Last)
            {
                var next = scope.Allocate(n, layers[l].FanOut);
                Backend.ApplyActivation(Architecture.Activation, 1, t.Z[l], next);
                Backend.Hadamard(next, zd, next);
                hDot[l + 1] = next;
            }
        }

        return new Tangents(zDot, hDot);
    }

    /// <summary>
    /// The R-operator of the reverse pass (Pearlmutter): given the reverse pass <paramref name="back"/> of a cotangent G,
    /// the tangents of the direction V and R{G} (<paramref name="cotangentTangent"/>, or null for a fixed G), writes
    /// R{∂(G·f)/∂w} — the Hessian-vector product — into <paramref name="result"/>.
    /// </summary>
    private void ReverseTangent(Trace t, Backprop back, Tangents tangents, DeviceBuffer<T> direction, DeviceBuffer<T>? cotangentTangent, DeviceBuffer<T> result, BufferScope<T> scope)
    {
        int n = t.H[0].Rows;
        var rDelta = cotangentTangent ?? Zero(scope.Allocate(n, layers[Last].FanOut));
        for (int l = Last; l >= 0; l--)
        {
            LayerGradient(l, t, rDelta, t.H[l], back.Deltas[l], tangents.HDot[l], result);
            if (l == 0)
            {
                break;
            }

            // R{g_l} = a_l·(R{Δ_l}·W_l + Δ_l·V_l); R{Δ_(l−1)} = R{g_l}∘φ′(z) + g_l∘φ″(z)∘ż.
            var rg = scope.Allocate(n, layers[l].FanIn);
            Backend.Gemm(Transpose.None, Transpose.None, WeightScale(l), rDelta, WeightsOf(parameters, layers[l]), T.Zero, rg);
            Backend.Gemm(Transpose.None, Transpose.None, WeightScale(l), back.Deltas[l], WeightsOf(direction, layers[l]), T.One, rg);
            var d1 = scope.Allocate(n, layers[l].FanIn);
            Backend.ApplyActivation(Architecture.Activation, 1, t.Z[l - 1], d1);
            Backend.Hadamard(rg, d1, rg);
            var d2 = d1;
            Backend.ApplyActivation(Architecture.Activation, 2, t.Z[l - 1], d2);
            Backend.Hadamard(d2, tangents.ZDot[l - 1], d2);
            Backend.Hadamard(d2, back.InputGradients[l]!, d2);
            Backend.Axpy(T.One, d2, rg);
            rDelta = rg;
        }
    }

    private DeviceBuffer<T> Zero(DeviceBuffer<T> buffer)
    {
        Backend.Scale(T.Zero, buffer);
        return buffer;
    }

    /// <summary>The forward pass: h_l (h₀ = X) and z_l per layer, the output z_L, and a column of ones (n × 1) for the biases.</summary>
    private sealed record Trace(DeviceBuffer<T>[] H, DeviceBuffer<T>[] Z, DeviceBuffer<T> Ones)
    {
        public DeviceBuffer<T> Output => Z[^1];
    }

    /// <summary>The reverse pass: Δ_l = ∂/∂z_l and g_l = ∂/∂h_l (null where not computed).</summary>
    private sealed record Backprop(DeviceBuffer<T>[] Deltas, DeviceBuffer<T>?[] InputGradients);

    /// <summary>Forward-mode tangents: ż_l and ḣ_l (ḣ₀ = null: the inputs do not move).</summary>
    private sealed record Tangents(DeviceBuffer<T>[] ZDot, DeviceBuffer<T>?[] HDot);
}

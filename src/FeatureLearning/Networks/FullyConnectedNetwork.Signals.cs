using FeatureLearning.Compute;

namespace FeatureLearning.Networks;

/// <content>
/// The factors of the per-sample Jacobian, for kernels built on the passes (the empirical NTK of
/// <see cref="Ntk.EmpiricalNtk"/>): the layer inputs of the forward pass and the reverse passes of the cotangents e_k.
/// </content>
public sealed partial class FullyConnectedNetwork<T>
{
    /// <summary>The layer layouts (fan-in, fan-out, weight scale a_l and bias scale c_l), in order.</summary>
    internal IReadOnlyList<LayerLayout> Layers => layers;

    /// <summary>
    /// The layer inputs h_l and the back-propagated signals Δ_l of every output for a block of inputs on the device: one
    /// forward pass and one reverse pass (<see cref="Backward"/>) of the cotangents G = e_k for k = 0 … c − 1 stacked
    /// output-major (row k·b + i of G is e_k), over the pre-activations tiled c times. The buffers belong to
    /// <paramref name="scope"/>.
    /// </summary>
    /// <param name="x">X, b × d, on <see cref="Backend"/>.</param>
    /// <param name="scope">Owns every buffer allocated here.</param>
    /// <returns>The h_l (b rows) and the stacked Δ_l (c·b rows) below the readout.</returns>
    internal NetworkSignals<T> Signals(DeviceBuffer<T> x, BufferScope<T> scope)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckInputShape(x.Cols, nameof(x));
        int b = x.Rows, c = Architecture.OutputDimension;
        var trace = ForwardTrace(x, scope);
        var deltas = new DeviceBuffer<T>[Last];
        if (Last == 0)
        {
            return new NetworkSignals<T>(trace.H, deltas);
        }

        // The reverse pass reads only the pre-activations below the readout (no parameter gradient is asked for), so the
        // stacked pass needs those tiled c times; H and the ones keep b rows and are not read.
        var stacked = trace;
        if (c > 1)
        {
            var z = new DeviceBuffer<T>[layers.Length];
            for (int l = 0; l < Last; l++)
            {
                z[l] = scope.Allocate(c * b, layers[l].FanOut);
                for (int k = 0; k < c; k++)
                {
                    Backend.Copy(trace.Z[l], z[l].RowRange(k * b, b));
                }
            }

            z[Last] = trace.Z[Last];
            stacked = trace with { Z = z };
        }

        var units = new T[c * b * c];
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < b; i++)
            {
                units[(((k * b) + i) * c) + k] = T.One;
            }
        }

        var back = Backward(stacked, scope.Upload(units, c * b, c), null, 0, false, scope);
        Array.Copy(back.Deltas, deltas, Last);
        return new NetworkSignals<T>(trace.H, deltas);
    }
}

using FeatureLearning.Compute;

namespace FeatureLearning.Networks;

/// <summary>
/// The per-layer factors of the per-sample Jacobian for a block of b inputs, on the device (see
/// <see cref="FullyConnectedNetwork{T}"/>'s internal <c>Signals</c>): ∂f_k(xᵢ)/∂W_l = a_l·Δ_l^k(xᵢ)·h_l(xᵢ)ᵀ and
/// ∂f_k(xᵢ)/∂b_l = c_l·Δ_l^k(xᵢ).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <param name="Inputs">The layer inputs h_l, b × fan_in(l), for l = 0 … L (h₀ = X).</param>
/// <param name="Deltas">
/// The back-propagated signals of every output for the layers below the readout (l = 0 … L − 1), stacked output-major:
/// (c·b) × fan_out(l), row k·b + i = ∂f_k(xᵢ)/∂z_l. The readout's signal is e_k and is not stored.
/// </param>
internal sealed record NetworkSignals<T>(DeviceBuffer<T>[] Inputs, DeviceBuffer<T>[] Deltas)
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;

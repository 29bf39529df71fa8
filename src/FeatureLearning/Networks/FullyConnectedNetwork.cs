using FeatureLearning.Compute;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <summary>
/// A fully connected network f: ℝᵈ → ℝᶜ (see <see cref="NetworkArchitecture"/>) whose parameters live in one P × 1 device
/// buffer of a compute backend, with a view per layer, and whose derivatives are exact: reverse-mode gradients, Jacobian-vector
/// and vector-Jacobian products, explicit per-sample Jacobians in row blocks, Hessian-vector products of the loss and of the
/// output (Pearlmutter's R-operator), gradients in the inputs of every layer, and GD/SGD training.
/// </summary>
/// <remarks>
/// <para><b>Parameter layout.</b> Layer by layer (l = 0 … L): W_l, fan_out × fan_in, row-major (element (o, i) at
/// offset + o·fan_in + i), then b_l (fan_out). <see cref="Weights"/> and <see cref="Biases"/> are the views;
/// <see cref="GetParameters"/> returns the same order.</para>
/// <para><b>Batches.</b> Inputs are n × d (one sample per row) and outputs n × c. A per-sample quantity over the outputs is
/// flattened sample-major: entry (i, k) is row i·c + k of the Jacobian J (n·c × P) and of a Jacobian-vector product.</para>
/// <para><b>Where it runs.</b> Everything over the parameters (forward and backward passes, products with J and the Hessian,
/// updates) is GEMMs and elementwise primitives on the backend, with no per-sample loop; the loss and its derivatives in the
/// outputs (n × c) are evaluated on the host in double precision. Every operation is synchronous; the network is not safe
/// to use from several threads at once while it is being trained or its parameters are set.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed partial class FullyConnectedNetwork<T> : IDisposable
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    private readonly LayerLayout[] layers;
    private readonly DeviceBuffer<T> parameters;
    private bool disposed;

    private FullyConnectedNetwork(NetworkArchitecture architecture, IComputeBackend backend, DeviceBuffer<T> parameters)
    {
        Architecture = architecture;
        Backend = backend;
        layers = LayerLayout.Of(architecture);
        this.parameters = parameters;
    }

    /// <summary>The architecture (validated).</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary>The backend that holds the parameters and runs every pass.</summary>
    public IComputeBackend Backend { get; }

    /// <summary>The number of parameters P.</summary>
    public int ParameterCount => parameters.Rows;

    /// <summary>The parameters as one P × 1 device buffer (see the remarks for the layout); writes to it change the network.</summary>
    public DeviceBuffer<T> ParameterBuffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return parameters;
        }
    }

    /// <summary>
    /// Creates a network with seeded Gaussian parameters: W ~ N(0, 1) and b ~ N(0, 1) in the NTK parameterisation,
    /// W ~ N(0, σ_w²/fan_in) and b ~ N(0, σ_b²) in the standard one, every parameter then multiplied by
    /// <paramref name="initializationScale"/> ("small" initialisation for a factor below 1).
    /// </summary>
    /// <param name="architecture">The architecture.</param>
    /// <param name="seed">The seed of the draw (the same seed gives the same parameters, in float and double).</param>
    /// <param name="initializationScale">The factor on every initial parameter (finite, ≥ 0). Default 1.</param>
    /// <param name="backend">The backend; <see langword="null"/> for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The network; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">An invalid architecture (naming the property) or scale.</exception>
    public static FullyConnectedNetwork<T> Create(NetworkArchitecture architecture, int seed, double initializationScale = 1.0, IComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        Validation.NonNegativeFinite(initializationScale, nameof(initializationScale), "initialisation scale");
        var normal = new Normal(0, 1, new Random(seed));
        var host = new T[architecture.ParameterCount];
        bool ntk = architecture.Parameterization == Parameterization.Ntk;
        foreach (var layer in LayerLayout.Of(architecture))
        {
            double weightStd = initializationScale * (ntk ? 1.0 : architecture.WeightStd / Math.Sqrt(layer.FanIn));
            double biasStd = initializationScale * (ntk ? 1.0 : architecture.BiasStd);
            for (int i = 0; i < layer.FanOut * layer.FanIn; i++)
            {
                host[layer.WeightOffset + i] = T.CreateTruncating(weightStd * normal.Sample());
            }

            for (int i = 0; i < layer.FanOut; i++)
            {
                host[layer.BiasOffset + i] = T.CreateTruncating(biasStd * normal.Sample());
            }
        }

        var be = backend ?? ComputeBackends.Default;
        return new FullyConnectedNetwork<T>(architecture, be, be.Upload<T>(host, host.Length, 1));
    }

    /// <summary>Creates a network with the given parameters (in the layout of the remarks).</summary>
    /// <param name="architecture">The architecture.</param>
    /// <param name="parameters">The P parameters (finite).</param>
    /// <param name="backend">The backend; <see langword="null"/> for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The network; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">An invalid architecture, or parameters of the wrong length or not finite.</exception>
    public static FullyConnectedNetwork<T> FromParameters(NetworkArchitecture architecture, Vector<T> parameters, IComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        var host = CheckParameterVector(parameters, architecture.ParameterCount, nameof(parameters));
        var be = backend ?? ComputeBackends.Default;
        return new FullyConnectedNetwork<T>(architecture, be, be.Upload<T>(host, host.Length, 1));
    }

    /// <summary>The view of W_l (fan_out × fan_in) in <see cref="ParameterBuffer"/>.</summary>
    /// <param name="layer">0 … L.</param>
    /// <returns>A contiguous view; writes through it change the network.</returns>
    public DeviceBuffer<T> Weights(int layer) => WeightsOf(ParameterBuffer, Layer(layer));

    /// <summary>The view of b_l (1 × fan_out) in <see cref="ParameterBuffer"/>.</summary>
    /// <param name="layer">0 … L.</param>
    /// <returns>A contiguous view; writes through it change the network.</returns>
    public DeviceBuffer<T> Biases(int layer) => BiasesOf(ParameterBuffer, Layer(layer));

    /// <summary>A copy of the parameters as a flat vector (the layout of the remarks).</summary>
    /// <returns>The P parameters.</returns>
    public Vector<T> GetParameters()
    {
        var host = new T[ParameterCount];
        Backend.Download(ParameterBuffer, host);
        return Vector<T>.Build.DenseOfArray(host);
    }

    /// <summary>Overwrites the parameters.</summary>
    /// <param name="values">P finite values in the layout of the remarks.</param>
    /// <exception cref="ArgumentException">Wrong length or a value that is not finite.</exception>
    public void SetParameters(Vector<T> values)
    {
        var host = CheckParameterVector(values, ParameterCount, nameof(values));
        Backend.Upload<T>(host, ParameterBuffer);
    }

    /// <summary>An independent copy (same architecture and backend, its own parameter buffer).</summary>
    /// <returns>The copy; the caller disposes it.</returns>
    public FullyConnectedNetwork<T> Clone()
    {
        var copy = Backend.Allocate<T>(ParameterCount, 1);
        try
        {
            Backend.Copy(ParameterBuffer, copy);
        }
        catch
        {
            copy.Dispose();
            throw;
        }

        return new FullyConnectedNetwork<T>(Architecture, Backend, copy);
    }

    /// <summary>The forward pass f(X) for a batch.</summary>
    /// <param name="inputs">X, n × d, finite.</param>
    /// <returns>f(X), n × c.</returns>
    public Matrix<T> Predict(Matrix<T> inputs)
    {
        using var scope = new BufferScope<T>(Backend);
        var trace = ForwardTrace(UploadInputs(inputs, scope), scope);
        return ToMatrix(trace.Output);
    }

    /// <summary>The forward pass keeping every pre-activation z_l and every hidden activation h_l (downloaded to the host).</summary>
    /// <param name="inputs">X, n × d, finite.</param>
    /// <returns>f(X), the z_l and the h_l.</returns>
    public NetworkForwardPass<T> Forward(Matrix<T> inputs)
    {
        using var scope = new BufferScope<T>(Backend);
        var trace = ForwardTrace(UploadInputs(inputs, scope), scope);
        var z = trace.Z.Select(ToMatrix).ToArray();
        var h = trace.H.Skip(1).Select(ToMatrix).ToArray();
        return new NetworkForwardPass<T>(z[^1], z, h);
    }

    /// <summary>The forward pass on device data, into a new buffer.</summary>
    /// <param name="inputs">X, n × d, on <see cref="Backend"/> (contiguous).</param>
    /// <returns>f(X), n × c; the caller disposes it.</returns>
    public DeviceBuffer<T> Predict(DeviceBuffer<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        CheckInputShape(inputs.Cols, nameof(inputs));
        var result = Backend.Allocate<T>(inputs.Rows, Architecture.OutputDimension);
        using var scope = new BufferScope<T>(Backend);
        Backend.Copy(ForwardTrace(inputs, scope).Output, result);
        return result;
    }

    /// <summary>The loss of the network on a batch.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c (probabilities for the cross-entropy).</param>
    /// <param name="loss">The loss (see <see cref="NetworkLoss"/> for the normalisation).</param>
    /// <returns>L.</returns>
    public double Loss(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss)
    {
        var y = CheckTargets(inputs, targets, loss);
        var f = Predict(inputs).ToRowMajorArray().Select(double.CreateTruncating).ToArray();
        return LossFunctions.Evaluate(loss, f, y, inputs.RowCount, Architecture.OutputDimension, Span<double>.Empty);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            parameters.Dispose();
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var a = Architecture;
        string widths = string.Join(" → ", new[] { a.InputDimension }.Concat(a.HiddenWidths).Append(a.OutputDimension));
        return $"FullyConnectedNetwork<{typeof(T).Name}> {widths}, {a.Activation}, {a.Parameterization}, P = {ParameterCount}, on {Backend.Name}";
    }

    private static DeviceBuffer<T> WeightsOf(DeviceBuffer<T> flat, LayerLayout layer) =>
        flat.RowRange(layer.WeightOffset, layer.FanOut * layer.FanIn).Reshape(layer.FanOut, layer.FanIn);

    private static DeviceBuffer<T> BiasesOf(DeviceBuffer<T> flat, LayerLayout layer) =>
        flat.RowRange(layer.BiasOffset, layer.FanOut).Reshape(1, layer.FanOut);

    /// <summary>Checks a parameter vector (length and finiteness, naming <paramref name="name"/>) and returns its entries.</summary>
    internal static T[] CheckParameterVector(Vector<T> values, int count, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count != count)
        {
            throw new ArgumentException($"The vector has {values.Count} entries but the network has {count} parameters.", name);
        }

        var host = values.ToArray();
        for (int i = 0; i < host.Length; i++)
        {
            if (!T.IsFinite(host[i]))
            {
                throw new ArgumentException($"Entry {i} is {host[i]}: the values must be finite (no NaN or infinity).", name);
            }
        }

        return host;
    }

    private LayerLayout Layer(int layer)
    {
        if (layer < 0 || layer >= layers.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The layer must be between 0 and {layers.Length - 1}.");
        }

        return layers[layer];
    }

    private void CheckInputShape(int cols, string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (cols != Architecture.InputDimension)
        {
            throw new ArgumentException($"The inputs have {cols} columns but the network's input dimension is {Architecture.InputDimension}.", name);
        }
    }

    private DeviceBuffer<T> UploadInputs(Matrix<T> inputs, BufferScope<T> scope, string name = "inputs")
    {
        Validation.NonEmptyFinite(inputs, name);
        CheckInputShape(inputs.ColumnCount, name);
        return scope.Upload(inputs.ToRowMajorArray(), inputs.RowCount, inputs.ColumnCount);
    }

    private double[] CheckTargets(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss)
    {
        Validation.DefinedEnum(loss, nameof(loss));
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        Validation.NonEmptyFinite(targets, nameof(targets));
        Validation.SameRows(inputs, targets, nameof(targets));
        if (targets.ColumnCount != Architecture.OutputDimension)
        {
            throw new ArgumentException($"The targets have {targets.ColumnCount} columns but the network has {Architecture.OutputDimension} outputs.", nameof(targets));
        }

        return targets.ToRowMajorArray().Select(double.CreateTruncating).ToArray();
    }

    private Matrix<T> ToMatrix(DeviceBuffer<T> buffer)
    {
        var host = new T[buffer.Length];
        Backend.Download(buffer, host);
        return Matrix<T>.Build.DenseOfRowMajor(buffer.Rows, buffer.Cols, host);
    }

    private Vector<T> ToVector(DeviceBuffer<T> buffer)
    {
        var host = new T[buffer.Length];
        Backend.Download(buffer, host);
        return Vector<T>.Build.DenseOfArray(host);
    }
}

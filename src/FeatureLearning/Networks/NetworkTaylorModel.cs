using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <summary>
/// The linearised or quadratic model of a <see cref="FullyConnectedNetwork{T}"/> around its parameters w₀ at creation:
/// f_lin(w) = f(w₀) + J(w₀)(w − w₀) and f_quad(w) = f_lin(w) + ½(w − w₀)ᵀ∇²f(w₀)(w − w₀) per sample and output, with
/// parameters w of the network's layout (starting at w₀), trainable by the network's GD/SGD.
/// </summary>
/// <remarks>
/// Nothing of size n·c × P or P × P is formed: the outputs are the forward pass at w₀ plus the first (and second)
/// directional derivatives along Δ = w − w₀ by forward mode; the gradients are the reverse pass at w₀ (a VJP) plus, for
/// the quadratic model, the output Hessian-vector product at w₀ with the loss's cotangent and Δ (the R-operator).
/// Every evaluation therefore costs a small multiple of the network's own passes at w₀. The linearised model is a kernel
/// model with the empirical NTK J(w₀)J(w₀)ᵀ, so its MSE gradient descent is that of
/// <see cref="Ntk.KernelGradientFlow"/>; the quadratic model is the model of the catapult phase (see docs/ntk.md).
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class NetworkTaylorModel<T> : IDisposable
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    private readonly FullyConnectedNetwork<T> origin;
    private readonly DeviceBuffer<T> parameters;
    private bool disposed;

    private NetworkTaylorModel(FullyConnectedNetwork<T> origin, DeviceBuffer<T> parameters, TaylorOrder order)
    {
        this.origin = origin;
        this.parameters = parameters;
        Order = order;
    }

    /// <summary>The order of the expansion.</summary>
    public TaylorOrder Order { get; }

    /// <summary>The network's architecture.</summary>
    public NetworkArchitecture Architecture => origin.Architecture;

    /// <summary>The backend of the network.</summary>
    public IComputeBackend Backend => origin.Backend;

    /// <summary>The number of parameters P (the network's).</summary>
    public int ParameterCount => origin.ParameterCount;

    /// <summary>The parameters w as one P × 1 device buffer (the network's layout); writes to it change the model.</summary>
    public DeviceBuffer<T> ParameterBuffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return parameters;
        }
    }

    private bool Quadratic => Order == TaylorOrder.Quadratic;

    /// <summary>The Taylor model of <paramref name="network"/> around its current parameters (copied: later changes to the network do not affect the model).</summary>
    /// <param name="network">The network; its parameters are w₀ and the model's initial w.</param>
    /// <param name="order"><see cref="TaylorOrder.Linear"/> or <see cref="TaylorOrder.Quadratic"/>.</param>
    /// <returns>The model; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">An undefined order.</exception>
    public static NetworkTaylorModel<T> Create(FullyConnectedNetwork<T> network, TaylorOrder order)
    {
        ArgumentNullException.ThrowIfNull(network);
        Validation.DefinedEnum(order, nameof(order));
        var origin = network.Clone();
        try
        {
            var w = origin.Backend.Allocate<T>(origin.ParameterCount, 1);
            origin.Backend.Copy(origin.ParameterBuffer, w);
            return new NetworkTaylorModel<T>(origin, w, order);
        }
        catch
        {
            origin.Dispose();
            throw;
        }
    }

    /// <summary>A copy of the parameters w.</summary>
    /// <returns>The P parameters.</returns>
    public Vector<T> GetParameters() => Download(ParameterBuffer);

    /// <summary>A copy of the expansion point w₀.</summary>
    /// <returns>The P parameters of the network the model was created from.</returns>
    public Vector<T> GetInitialParameters() => origin.GetParameters();

    /// <summary>Overwrites the parameters w.</summary>
    /// <param name="values">P finite values in the network's layout.</param>
    /// <exception cref="ArgumentException">Wrong length or a value that is not finite.</exception>
    public void SetParameters(Vector<T> values)
    {
        var host = FullyConnectedNetwork<T>.CheckParameterVector(values, ParameterCount, nameof(values));
        Backend.Upload<T>(host, ParameterBuffer);
    }

    /// <summary>An independent copy (the same w₀, its own w).</summary>
    /// <returns>The copy; the caller disposes it.</returns>
    public NetworkTaylorModel<T> Clone()
    {
        var copy = Create(origin, Order);
        Backend.Copy(ParameterBuffer, copy.parameters);
        return copy;
    }

    /// <summary>The model's outputs for a batch.</summary>
    /// <param name="inputs">X, n × d, finite.</param>
    /// <returns>f_lin(X; w) or f_quad(X; w), n × c.</returns>
    public Matrix<T> Predict(Matrix<T> inputs) => origin.TaylorPredict(inputs, ParameterBuffer, Quadratic);

    /// <summary>The model's loss on a batch.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="loss">The loss (the normalisation of <see cref="NetworkLoss"/>).</param>
    /// <returns>L.</returns>
    public double Loss(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss) => origin.TaylorLoss(inputs, targets, loss, ParameterBuffer, Quadratic);

    /// <summary>The model's loss and its exact gradient in w: J(w₀)ᵀG, plus (Σ G_ik ∇²f_ik(w₀))(w − w₀) for the quadratic model, with G = ∂L/∂f.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="loss">The loss.</param>
    /// <returns>L and ∂L/∂w.</returns>
    public NetworkLossGradient<T> LossGradient(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss) => origin.TaylorLossGradient(inputs, targets, loss, ParameterBuffer, Quadratic);

    /// <summary>The Jacobian-vector product of the model at w: J(w₀)v, plus the rows ∇²f_ik(w₀)(w − w₀) applied to v for the quadratic model.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="direction">v, P entries.</param>
    /// <returns>n × c (the network's sample-major convention).</returns>
    public Matrix<T> JacobianVectorProduct(Matrix<T> inputs, Vector<T> direction) => origin.TaylorJacobianVectorProduct(inputs, direction, ParameterBuffer, Quadratic);

    /// <summary>The vector-Jacobian product of the model at w: J(w₀)ᵀu, plus (Σ u_ik ∇²f_ik(w₀))(w − w₀) for the quadratic model.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="cotangent">u, n × c.</param>
    /// <returns>P entries.</returns>
    public Vector<T> VectorJacobianProduct(Matrix<T> inputs, Matrix<T> cotangent) => origin.TaylorVectorJacobianProduct(inputs, cotangent, ParameterBuffer, Quadratic);

    /// <summary>
    /// Trains a copy of this model by the GD/SGD of <see cref="NetworkTrainingOptions"/> (the loop of
    /// <see cref="FullyConnectedNetwork{T}.Train"/>; weight decay pulls w, not w − w₀, towards 0); this model is not changed.
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="options">The optimiser; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The trained copy and the loss history.</returns>
    /// <exception cref="ArgumentException">Invalid data or options.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the copy is disposed).</exception>
    public NetworkTaylorModelTrainingResult<T> Train(Matrix<T> inputs, Matrix<T> targets, NetworkTrainingOptions? options = null, IProgress<NetworkTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new NetworkTrainingOptions();
        options.Validate();
        var y = origin.CheckTrainingData(inputs, targets, options.Loss);
        var model = Clone();
        try
        {
            var history = origin.TrainParameters(model.parameters, inputs, y, options, (x, batchTargets, gradient, scope) => origin.TaylorLossGradientOnDevice(x, batchTargets, options.Loss, model.parameters, Quadratic, gradient, scope), progress, cancellationToken);
            double final = history.Diverged ? double.NaN : model.Loss(inputs, targets, options.Loss);
            return new NetworkTaylorModelTrainingResult<T>(model, history.StepLosses, history.EpochLosses, final, history.Diverged || !double.IsFinite(final));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            parameters.Dispose();
            origin.Dispose();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"NetworkTaylorModel<{typeof(T).Name}> ({Order}) of {origin}";

    private Vector<T> Download(DeviceBuffer<T> buffer)
    {
        var host = new T[buffer.Length];
        Backend.Download(buffer, host);
        return Vector<T>.Build.DenseOfArray(host);
    }
}

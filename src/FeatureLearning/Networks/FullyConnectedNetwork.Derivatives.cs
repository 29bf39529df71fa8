using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <content>The exact derivatives: gradients, Jacobian products, explicit Jacobian blocks, Hessian-vector products, input gradients.</content>
public sealed partial class FullyConnectedNetwork<T>
{
    /// <summary>The loss on a batch and its gradient in the parameters, by reverse mode.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c (probabilities for the cross-entropy).</param>
    /// <param name="loss">The loss (see <see cref="NetworkLoss"/> for the 1/n normalisation).</param>
    /// <returns>L and ∂L/∂w (P entries).</returns>
    /// <exception cref="ArgumentException">Empty, non-finite or mis-shaped inputs or targets.</exception>
    public NetworkLossGradient<T> LossGradient(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss)
    {
        var y = CheckTargets(inputs, targets, loss);
        using var scope = new BufferScope<T>(Backend);
        var gradient = scope.Allocate(ParameterCount, 1);
        double value = LossGradientOnDevice(UploadInputs(inputs, scope), y, loss, gradient, scope);
        return new NetworkLossGradient<T>(value, ToVector(gradient));
    }

    /// <summary>The Jacobian-vector product J·v: the directional derivative of the outputs along a parameter direction, without forming J.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="direction">v, P entries in the parameter layout.</param>
    /// <returns>J·v as an n × c matrix (entry (i, k) = ∂f_k(xᵢ)/∂w · v, row i·c + k of J).</returns>
    public Matrix<T> JacobianVectorProduct(Matrix<T> inputs, Vector<T> direction)
    {
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var v = scope.Upload(CheckParameterVector(direction, ParameterCount, nameof(direction)), ParameterCount, 1);
        var trace = ForwardTrace(x, scope);
        return ToMatrix(TangentPass(trace, v, scope).ZDot[Last]);
    }

    /// <summary>The vector-Jacobian product Jᵀ·u = ∂(Σᵢₖ u_ik f_k(xᵢ))/∂w by one reverse pass, without forming J.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="cotangent">u, n × c.</param>
    /// <returns>Jᵀu, P entries in the parameter layout.</returns>
    public Vector<T> VectorJacobianProduct(Matrix<T> inputs, Matrix<T> cotangent)
    {
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var u = UploadCotangent(cotangent, inputs.RowCount, scope);
        var gradient = scope.Allocate(ParameterCount, 1);
        Backward(ForwardTrace(x, scope), u, gradient, 0, false, scope);
        return ToVector(gradient);
    }

    /// <summary>The explicit per-sample Jacobian J (n·c × P, row i·c + k = ∂f_k(xᵢ)/∂w). For tests and small problems: prefer the products.</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <returns>J.</returns>
    public Matrix<T> Jacobian(Matrix<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Jacobian(inputs, 0, inputs.RowCount);
    }

    /// <summary>
    /// A row block of the per-sample Jacobian: the rows of samples <paramref name="firstSample"/> … + <paramref name="sampleCount"/> − 1
    /// (sampleCount·c × P, row (i − firstSample)·c + k = ∂f_k(xᵢ)/∂w), from c reverse passes whose per-sample weight gradients are
    /// row-wise Kronecker products (no per-sample loop).
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="firstSample">The first sample of the block.</param>
    /// <param name="sampleCount">The number of samples in the block (≥ 1).</param>
    /// <returns>The block of J.</returns>
    public Matrix<T> Jacobian(Matrix<T> inputs, int firstSample, int sampleCount)
    {
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        if (firstSample < 0 || sampleCount < 1 || (long)firstSample + sampleCount > inputs.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleCount), $"Samples {firstSample} … {firstSample + sampleCount - 1} are not a non-empty range of the {inputs.RowCount} inputs.");
        }

        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs.SubMatrix(firstSample, sampleCount, 0, inputs.ColumnCount), scope);
        int m = sampleCount, c = Architecture.OutputDimension, p = ParameterCount;
        var trace = ForwardTrace(x, scope);
        var jacobian = scope.Allocate(m * c, p);
        var rows = jacobian.Reshape(m, c * p); // row i holds the c rows of sample i side by side
        var kronecker = new DeviceBuffer<T>[layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            kronecker[l] = scope.Allocate(m, layers[l].FanOut * layers[l].FanIn);
        }

        var unit = scope.Allocate(m, c);
        for (int k = 0; k < c; k++)
        {
            Backend.Upload<T>(UnitColumn(m, c, k), unit);
            using var inner = new BufferScope<T>(Backend);
            var back = Backward(trace, unit, null, 0, false, inner);
            for (int l = 0; l < layers.Length; l++)
            {
                var layer = layers[l];
                Backend.RowKronecker(back.Deltas[l], trace.H[l], kronecker[l]);
                Backend.Scale(WeightScale(l), kronecker[l]);
                Backend.Copy(kronecker[l], rows.Slice(0, m, (k * p) + layer.WeightOffset, layer.FanOut * layer.FanIn));
                var bias = rows.Slice(0, m, (k * p) + layer.BiasOffset, layer.FanOut);
                Backend.Copy(back.Deltas[l], bias);
                Backend.Scale(BiasScale(l), bias);
            }
        }

        return ToMatrix(jacobian);
    }

    /// <summary>
    /// The Hessian-vector product of the loss, ∇²L·v, exactly by Pearlmutter's R-operator (one forward, one tangent and two
    /// reverse passes); the Hessian is never formed.
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="direction">v, P entries.</param>
    /// <returns>∇²L·v, P entries.</returns>
    public Vector<T> LossHessianVectorProduct(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss, Vector<T> direction)
    {
        var y = CheckTargets(inputs, targets, loss);
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var v = scope.Upload(CheckParameterVector(direction, ParameterCount, nameof(direction)), ParameterCount, 1);
        int n = inputs.RowCount, c = Architecture.OutputDimension;
        var trace = ForwardTrace(x, scope);
        var tangents = TangentPass(trace, v, scope);
        var f = DownloadDouble(trace.Output);
        var g = new double[n * c];
        LossFunctions.Evaluate(loss, f, y, n, c, g);
        var rg = new double[n * c];
        LossFunctions.Curvature(loss, f, y, DownloadDouble(tangents.ZDot[Last]), n, c, rg);
        var back = Backward(trace, scope.Upload(Cast(g), n, c), null, 0, false, scope);
        var result = scope.Allocate(ParameterCount, 1);
        ReverseTangent(trace, back, tangents, v, scope.Upload(Cast(rg), n, c), result, scope);
        return ToVector(result);
    }

    /// <summary>
    /// The Hessian-vector product of the outputs contracted with a fixed cotangent: Σᵢₖ u_ik·∇²f_k(xᵢ)·v (for one sample and one
    /// output, u = eᵢₖ, the Hessian of that output), exactly by the R-operator.
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="cotangent">u, n × c.</param>
    /// <param name="direction">v, P entries.</param>
    /// <returns>(Σ u_ik ∇²f_ik)·v, P entries.</returns>
    public Vector<T> OutputHessianVectorProduct(Matrix<T> inputs, Matrix<T> cotangent, Vector<T> direction)
    {
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var u = UploadCotangent(cotangent, inputs.RowCount, scope);
        var v = scope.Upload(CheckParameterVector(direction, ParameterCount, nameof(direction)), ParameterCount, 1);
        var trace = ForwardTrace(x, scope);
        var tangents = TangentPass(trace, v, scope);
        var back = Backward(trace, u, null, 0, false, scope);
        var result = scope.Allocate(ParameterCount, 1);
        ReverseTangent(trace, back, tangents, v, null, result, scope);
        return ToVector(result);
    }

    /// <summary>The gradients of every output in the inputs, per sample: entry k is the n × d matrix whose row i is ∇ₓ f_k(xᵢ).</summary>
    /// <param name="inputs">X, n × d.</param>
    /// <returns>c matrices, n × d.</returns>
    public IReadOnlyList<Matrix<T>> InputGradients(Matrix<T> inputs) => LayerInputGradients(inputs, 0);

    /// <summary>
    /// The gradients of every output in the input h_l of layer <paramref name="layer"/> (h₀ = x, h_l = φ(z_(l−1))), per sample:
    /// entry k is the n × fan_in(l) matrix whose row i is ∂f_k(xᵢ)/∂h_l (what the AGOP of that layer averages).
    /// </summary>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="layer">0 … L.</param>
    /// <returns>c matrices, n × fan_in(layer).</returns>
    public IReadOnlyList<Matrix<T>> LayerInputGradients(Matrix<T> inputs, int layer)
    {
        Layer(layer);
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        int n = inputs.RowCount, c = Architecture.OutputDimension;
        var trace = ForwardTrace(x, scope);
        var unit = scope.Allocate(n, c);
        var result = new Matrix<T>[c];
        for (int k = 0; k < c; k++)
        {
            Backend.Upload<T>(UnitColumn(n, c, k), unit);
            using var inner = new BufferScope<T>(Backend);
            result[k] = ToMatrix(Backward(trace, unit, null, layer, true, inner).InputGradients[layer]!);
        }

        return result;
    }

    /// <summary>Forward pass, loss on the host, reverse pass into <paramref name="gradient"/> (P × 1); returns L.</summary>
    private double LossGradientOnDevice(DeviceBuffer<T> x, ReadOnlySpan<double> y, NetworkLoss loss, DeviceBuffer<T> gradient, BufferScope<T> scope)
    {
        int n = x.Rows, c = Architecture.OutputDimension;
        var trace = ForwardTrace(x, scope);
        var g = new double[n * c];
        double value = LossFunctions.Evaluate(loss, DownloadDouble(trace.Output), y, n, c, g);
        Backward(trace, scope.Upload(Cast(g), n, c), gradient, 0, false, scope);
        return value;
    }

    private DeviceBuffer<T> UploadCotangent(Matrix<T> cotangent, int n, BufferScope<T> scope)
    {
        Validation.NonEmptyFinite(cotangent, nameof(cotangent));
        if (cotangent.RowCount != n || cotangent.ColumnCount != Architecture.OutputDimension)
        {
            throw new ArgumentException($"The cotangent is {cotangent.RowCount} x {cotangent.ColumnCount} but the outputs are {n} x {Architecture.OutputDimension}.", nameof(cotangent));
        }

        return scope.Upload(cotangent.ToRowMajorArray(), n, cotangent.ColumnCount);
    }

    private double[] DownloadDouble(DeviceBuffer<T> buffer)
    {
        var host = new T[buffer.Length];
        Backend.Download(buffer, host);
        return host.Select(double.CreateTruncating).ToArray();
    }

    /// <summary>The n × c cotangent that selects output k of every sample (row-major).</summary>
    private static T[] UnitColumn(int n, int c, int k)
    {
        var host = new T[n * c];
        for (int i = 0; i < n; i++)
        {
            host[(i * c) + k] = T.One;
        }

        return host;
    }

    private static T[] Cast(double[] values) => values.Select(T.CreateTruncating).ToArray();
}

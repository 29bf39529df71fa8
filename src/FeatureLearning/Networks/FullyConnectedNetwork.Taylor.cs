using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Networks;

/// <content>
/// The Taylor models of <see cref="NetworkTaylorModel{T}"/> around this network's parameters w₀, at parameters w given as a
/// device buffer (Δ = w − w₀): f_lin = f(w₀) + J·Δ and f_quad = f_lin + ½·∂²f/∂Δ², the second directional derivative from a
/// second-order forward pass; their vector-Jacobian products are the reverse pass at w₀ plus, for f_quad, the R-operator
/// along Δ (the output HVP). J and the Hessian are never formed.
/// </content>
public sealed partial class FullyConnectedNetwork<T>
{
    /// <summary>The Taylor model's outputs at <paramref name="w"/>.</summary>
    internal Matrix<T> TaylorPredict(Matrix<T> inputs, DeviceBuffer<T> w, bool quadratic)
    {
        using var scope = new BufferScope<T>(Backend);
        return ToMatrix(TaylorPoint(UploadInputs(inputs, scope), w, quadratic, scope).Output);
    }

    /// <summary>The Taylor model's loss at <paramref name="w"/>.</summary>
    internal double TaylorLoss(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss, DeviceBuffer<T> w, bool quadratic)
    {
        var y = CheckTargets(inputs, targets, loss);
        using var scope = new BufferScope<T>(Backend);
        var point = TaylorPoint(UploadInputs(inputs, scope), w, quadratic, scope);
        return LossFunctions.Evaluate(loss, DownloadDouble(point.Output), y, inputs.RowCount, Architecture.OutputDimension, Span<double>.Empty);
    }

    /// <summary>The Taylor model's loss and its gradient at <paramref name="w"/>.</summary>
    internal NetworkLossGradient<T> TaylorLossGradient(Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss, DeviceBuffer<T> w, bool quadratic)
    {
        var y = CheckTargets(inputs, targets, loss);
        using var scope = new BufferScope<T>(Backend);
        var gradient = scope.Allocate(ParameterCount, 1);
        double value = TaylorLossGradientOnDevice(UploadInputs(inputs, scope), y, loss, w, quadratic, gradient, scope);
        return new NetworkLossGradient<T>(value, ToVector(gradient));
    }

    /// <summary>The Taylor model's loss on device inputs and its gradient into <paramref name="gradient"/>; returns L.</summary>
    internal double TaylorLossGradientOnDevice(DeviceBuffer<T> x, ReadOnlySpan<double> y, NetworkLoss loss, DeviceBuffer<T> w, bool quadratic, DeviceBuffer<T> gradient, BufferScope<T> scope)
    {
        int n = x.Rows, c = Architecture.OutputDimension;
        var point = TaylorPoint(x, w, quadratic, scope);
        var g = new double[n * c];
        double value = LossFunctions.Evaluate(loss, DownloadDouble(point.Output), y, n, c, g);
        TaylorBackward(point, scope.Upload(Cast(g), n, c), gradient, scope);
        return value;
    }

    /// <summary>The Taylor model's Jacobian-vector product at <paramref name="w"/>: J₀v (+ ∂²f/∂Δ∂v for the quadratic model).</summary>
    internal Matrix<T> TaylorJacobianVectorProduct(Matrix<T> inputs, Vector<T> direction, DeviceBuffer<T> w, bool quadratic)
    {
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var v = scope.Upload(CheckParameterVector(direction, ParameterCount, nameof(direction)), ParameterCount, 1);
        var point = TaylorPoint(x, w, quadratic, scope);
        var tangents = TangentPass(point.Trace, v, scope);
        var result = tangents.ZDot[Last];
        if (quadratic)
        {
            Backend.Axpy(T.One, SecondTangent(point.Trace, point.Tangents, point.Displacement, tangents, v, scope), result);
        }

        return ToMatrix(result);
    }

    /// <summary>The Taylor model's vector-Jacobian product at <paramref name="w"/>: J₀ᵀu (+ (Σ u_ik ∇²f_ik)·Δ for the quadratic model).</summary>
    internal Vector<T> TaylorVectorJacobianProduct(Matrix<T> inputs, Matrix<T> cotangent, DeviceBuffer<T> w, bool quadratic)
    {
        using var scope = new BufferScope<T>(Backend);
        var x = UploadInputs(inputs, scope);
        var u = UploadCotangent(cotangent, inputs.RowCount, scope);
        var gradient = scope.Allocate(ParameterCount, 1);
        TaylorBackward(TaylorPoint(x, w, quadratic, scope), u, gradient, scope);
        return ToVector(gradient);
    }

    /// <summary>The forward pass at w₀, the tangents of Δ = w − w₀, and the model's output f(w₀) + ż_L (+ ½ z̈_L).</summary>
    private TaylorState TaylorPoint(DeviceBuffer<T> x, DeviceBuffer<T> w, bool quadratic, BufferScope<T> scope)
    {
        var displacement = scope.Allocate(ParameterCount, 1);
        Backend.Copy(w, displacement);
        Backend.Axpy(-T.One, parameters, displacement);
        var trace = ForwardTrace(x, scope);
        var tangents = TangentPass(trace, displacement, scope);
        var output = scope.Allocate(x.Rows, Architecture.OutputDimension);
        Backend.Copy(trace.Output, output);
        Backend.Axpy(T.One, tangents.ZDot[Last], output);
        if (quadratic)
        {
            var half = T.One / (T.One + T.One);
            Backend.Axpy(half, SecondTangent(trace, tangents, displacement, tangents, displacement, scope), output);
        }

        return new TaylorState(trace, tangents, displacement, output, quadratic);
    }

    /// <summary>Jᵀ(w₀)·G into <paramref name="gradient"/>, plus (Σ G_ik ∇²f_ik(w₀))·Δ for the quadratic model.</summary>
    private void TaylorBackward(TaylorState point, DeviceBuffer<T> cotangent, DeviceBuffer<T> gradient, BufferScope<T> scope)
    {
        var back = Backward(point.Trace, cotangent, gradient, 0, false, scope);
        if (point.Quadratic)
        {
            var curvature = scope.Allocate(ParameterCount, 1);
            ReverseTangent(point.Trace, back, point.Tangents, point.Displacement, null, curvature, scope);
            Backend.Axpy(T.One, curvature, gradient);
        }
    }

    /// <summary>
    /// Second-order forward mode: the mixed directional derivative ∂²z_L/∂A∂B at w₀ (n × c) from the first-order tangents of
    /// the directions A and B. z̈_l = a_l(ḧ_l·W_lᵀ + ḣ_l^A·B_lᵀ + ḣ_l^B·A_lᵀ) (the biases are linear in w), ḧ₀ = 0, and
    /// ḧ_(l+1) = φ′(z_l)∘z̈_l + φ″(z_l)∘ż_l^A∘ż_l^B. For A = B = Δ it is Δᵀ∇²f Δ per sample and output.
    /// </summary>
    private DeviceBuffer<T> SecondTangent(Trace t, Tangents a, DeviceBuffer<T> directionA, Tangents b, DeviceBuffer<T> directionB, BufferScope<T> scope)
    {
        int n = t.H[0].Rows;
        DeviceBuffer<T>? hSecond = null;
        DeviceBuffer<T> zSecond = null!;
        for (int l = 0; l < layers.Length; l++)
        {
            zSecond = Zero(scope.Allocate(n, layers[l].FanOut));
            if (hSecond is not null)
            {
                Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), hSecond, WeightsOf(parameters, layers[l]), T.One, zSecond);
            }

            if (a.HDot[l] is { } ha && b.HDot[l] is { } hb)
            {
                Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), ha, WeightsOf(directionB, layers[l]), T.One, zSecond);
                Backend.Gemm(Transpose.None, Transpose.Transpose, WeightScale(l), hb, WeightsOf(directionA, layers[l]), T.One, zSecond);
            }

            if (l < Last)
            {
                var next = scope.Allocate(n, layers[l].FanOut);
                Backend.ApplyActivation(Architecture.Activation, 1, t.Z[l], next);
                Backend.Hadamard(next, zSecond, next);
                var curvature = scope.Allocate(n, layers[l].FanOut);
                Backend.ApplyActivation(Architecture.Activation, 2, t.Z[l], curvature);
                Backend.Hadamard(curvature, a.ZDot[l], curvature);
                Backend.Hadamard(curvature, b.ZDot[l], curvature);
                Backend.Axpy(T.One, curvature, next);
                hSecond = next;
            }
        }

        return zSecond;
    }

    /// <summary>The forward pass at w₀, the tangents of Δ, Δ itself and the model's output.</summary>
    private sealed record TaylorState(Trace Trace, Tangents Tangents, DeviceBuffer<T> Displacement, DeviceBuffer<T> Output, bool Quadratic);
}

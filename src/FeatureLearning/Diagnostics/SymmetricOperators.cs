using System.Numerics;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;
using Vec = MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>Symmetric operators over matrices, networks and gradients (see <see cref="ISymmetricOperator{T}"/>).</summary>
public static class SymmetricOperator
{
    /// <summary>A dense symmetric matrix as an operator (its symmetry is checked to 1e-10 relative in double, 1e-4 in float).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="matrix">A, n × n, symmetric.</param>
    /// <returns>The operator V ↦ A·V.</returns>
    /// <exception cref="ArgumentException">A is not square, not finite or not symmetric.</exception>
    public static ISymmetricOperator<T> Dense<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validation.NonEmptyFinite(matrix, nameof(matrix));
        if (matrix.RowCount != matrix.ColumnCount)
        {
            throw new ArgumentException($"The matrix is {matrix.RowCount} x {matrix.ColumnCount}; a symmetric operator needs a square one.", nameof(matrix));
        }

        double asymmetry = (matrix - matrix.Transpose()).FrobeniusNorm(), norm = matrix.FrobeniusNorm();
        double tolerance = typeof(T) == typeof(float) ? 1e-4 : 1e-10;
        if (asymmetry > tolerance * norm)
        {
            throw new ArgumentException($"The matrix is not symmetric: ‖A − Aᵀ‖_F / ‖A‖_F = {asymmetry / norm:G3}.", nameof(matrix));
        }

        return new FunctionOperator<T>(matrix.RowCount, v => matrix * v);
    }

    /// <summary>
    /// The Hessian of a network's training loss in its parameters, ∇²L (P × P), applied by exact Hessian-vector products
    /// (<see cref="FullyConnectedNetwork{T}.LossHessianVectorProduct"/>), over the whole data set in batches: L is the mean
    /// over all n samples, so ∇²L·v = Σ_b (n_b/n)·∇²L_b·v.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network (not copied: it must not be disposed while the operator is used).</param>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="targets">Y, n × c.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="batchSize">Samples per product (all of them when <see langword="null"/>).</param>
    /// <returns>The operator v ↦ ∇²L·v.</returns>
    public static ISymmetricOperator<T> LossHessian<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, Matrix<T> targets, NetworkLoss loss = NetworkLoss.MeanSquaredError, int? batchSize = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckInputs(network, inputs);
        Validation.NonEmptyFinite(targets, nameof(targets));
        Validation.SameRows(inputs, targets, nameof(targets));
        Validation.DefinedEnum(loss, nameof(loss));
        var batches = Batches(inputs.RowCount, batchSize);
        return new FunctionOperator<T>(network.ParameterCount, v => ByColumns(v, column =>
        {
            Vec.Vector<T>? sum = null;
            foreach (var (start, count) in batches)
            {
                var product = network.LossHessianVectorProduct(inputs.SubMatrix(start, count, 0, inputs.ColumnCount), targets.SubMatrix(start, count, 0, targets.ColumnCount), loss, column);
                product = batches.Count == 1 ? product : product * T.CreateChecked(count / (double)inputs.RowCount);
                sum = sum is null ? product : sum + product;
            }

            return sum!;
        }));
    }

    /// <summary>
    /// The Gauss–Newton matrix of the mean-squared error, G = JᵀJ/n (P × P, J the nc × P Jacobian of the outputs),
    /// applied as Jᵀ(J·v)/n by a Jacobian-vector and a vector-Jacobian product, in batches. Its nonzero eigenvalues are
    /// those of the empirical NTK J·Jᵀ divided by n.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="batchSize">Samples per product (all of them when <see langword="null"/>).</param>
    /// <returns>The operator v ↦ JᵀJv/n.</returns>
    public static ISymmetricOperator<T> GaussNewton<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, int? batchSize = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckInputs(network, inputs);
        var batches = Batches(inputs.RowCount, batchSize);
        var scale = T.One / T.CreateChecked(inputs.RowCount);
        return new FunctionOperator<T>(network.ParameterCount, v => ByColumns(v, column =>
        {
            Vec.Vector<T>? sum = null;
            foreach (var (start, count) in batches)
            {
                var x = inputs.SubMatrix(start, count, 0, inputs.ColumnCount);
                var product = network.VectorJacobianProduct(x, network.JacobianVectorProduct(x, column));
                sum = sum is null ? product : sum + product;
            }

            return sum! * scale;
        }));
    }

    /// <summary>
    /// The Hessian of the outputs in the parameters contracted with a cotangent u (n × c), Σᵢₖ u_ik·∇²f_k(xᵢ) (P × P); for
    /// one input and one output (u = 1) the output Hessian H_f of transition-to-linearity.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="cotangent">u, n × c; all ones when <see langword="null"/>.</param>
    /// <returns>The operator v ↦ (Σ u_ik ∇²f_ik)·v.</returns>
    public static ISymmetricOperator<T> OutputHessian<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, Matrix<T>? cotangent = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckInputs(network, inputs);
        if (cotangent is not null)
        {
            Validation.NonEmptyFinite(cotangent, nameof(cotangent));
            if (cotangent.RowCount != inputs.RowCount || cotangent.ColumnCount != network.Architecture.OutputDimension)
            {
                throw new ArgumentException($"The cotangent is {cotangent.RowCount} x {cotangent.ColumnCount}; it must be n x c = {inputs.RowCount} x {network.Architecture.OutputDimension}.", nameof(cotangent));
            }
        }

        var u = cotangent ?? Matrix<T>.Build.Dense(inputs.RowCount, network.Architecture.OutputDimension, T.One);
        return new FunctionOperator<T>(network.ParameterCount, v => ByColumns(v, column => network.OutputHessianVectorProduct(inputs, u, column)));
    }

    /// <summary>
    /// The empirical NTK Θ = J·Jᵀ (nc × nc, rows sample-major: i·c + k, as J's) applied as J(Jᵀv) by a vector-Jacobian and
    /// a Jacobian-vector product, never formed. (<see cref="Ntk.EmpiricalNtk"/> forms it, output-major.)
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="inputs">X, n × d.</param>
    /// <returns>The operator v ↦ J(Jᵀv).</returns>
    public static ISymmetricOperator<T> TangentKernel<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckInputs(network, inputs);
        int n = inputs.RowCount, c = network.Architecture.OutputDimension;
        return new FunctionOperator<T>(n * c, v => ByColumns(v, column =>
        {
            // v (nc, sample-major) as the n × c cotangent, Jᵀv, then J(Jᵀv) (n × c) back to sample-major.
            var u = Matrix<T>.Build.Dense(n, c, (i, k) => column[(i * c) + k]);
            var jv = network.JacobianVectorProduct(inputs, network.VectorJacobianProduct(inputs, u));
            return Vec.Vector<T>.Build.Dense(n * c, e => jv[e / c, e % c]);
        }));
    }

    /// <summary>
    /// An AGOP G = (1/n)·Σᵢ gᵢgᵢᵀ (d × d) from its gradients, applied as Γᵀ(Γ·v)/n without forming it: rows of Γ are the
    /// gradients gᵢ (for several outputs, stack the per-output gradient matrices).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="gradients">Γ, n × d.</param>
    /// <returns>The operator v ↦ ΓᵀΓv/n.</returns>
    public static ISymmetricOperator<T> Agop<T>(Matrix<T> gradients)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validation.NonEmptyFinite(gradients, nameof(gradients));
        var scale = T.One / T.CreateChecked(gradients.RowCount);
        return new FunctionOperator<T>(gradients.ColumnCount, v => gradients.TransposeThisAndMultiply(gradients * v) * scale);
    }

    private static void CheckInputs<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        if (inputs.ColumnCount != network.Architecture.InputDimension)
        {
            throw new ArgumentException($"The inputs have {inputs.ColumnCount} columns; the network takes {network.Architecture.InputDimension}.", nameof(inputs));
        }
    }

    private static List<(int Start, int Count)> Batches(int n, int? batchSize)
    {
        int b = batchSize ?? n;
        if (b < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        }

        var batches = new List<(int, int)>();
        for (int start = 0; start < n; start += b)
        {
            batches.Add((start, Math.Min(b, n - start)));
        }

        return batches;
    }

    private static Matrix<T> ByColumns<T>(Matrix<T> v, Func<Vec.Vector<T>, Vec.Vector<T>> apply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Matrix<T>.Build.Dense(v.RowCount, v.ColumnCount);
        for (int j = 0; j < v.ColumnCount; j++)
        {
            result.SetColumn(j, apply(v.Column(j)));
        }

        return result;
    }

    private sealed class FunctionOperator<T>(int dimension, Func<Matrix<T>, Matrix<T>> apply) : ISymmetricOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Dimension => dimension;

        public Matrix<T> Apply(Matrix<T> vectors)
        {
            ArgumentNullException.ThrowIfNull(vectors);
            if (vectors.RowCount != dimension)
            {
                throw new ArgumentException($"The vectors have {vectors.RowCount} rows; the operator's dimension is {dimension}.", nameof(vectors));
            }

            return apply(vectors);
        }
    }
}

using FeatureLearning.Data;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// The progress measures of "Emergence in non-neural models: grokking modular arithmetic via average gradient outer
/// product" (Mallinar et al., 2024) for a feature matrix M of the 2p-dimensional input one-hot(a) ⊕ one-hot(b).
/// </summary>
public static class GrokkingMeasures
{
    /// <summary>
    /// The circulant deviation of the cross block A = M[p.., ..p] (rows: coordinates of b, columns: of a):
    /// D(A) = q Σ_j Var_l(S(A)_{l,j}) / ‖A‖²_F, where S shifts row l of A left by l (S(A)_{l,j} = A_{l,(j+l) mod q}).
    /// This is the paper's Σ_j Var(S(A)_j) / ‖A‖²_F scaled by the block size q, so that D is the fraction of the block's
    /// energy that is not constant along its wrapped diagonals: 0 exactly when A is circulant (A_{l,j} depends only on
    /// j − l), about 1 for unstructured entries. For × and ÷ the residues 1 … p − 1 are first listed by discrete
    /// logarithm (0 dropped, q = p − 1), the order in which those tasks' blocks become circulant; for − and ÷ the columns
    /// are then negated.
    /// </summary>
    /// <remarks>For + and × (in discrete-log order) the learned cross block is circulant as it stands; for − and ÷ it is
    /// circulant after the columns are negated (b → −b, or log b → −log b), which this measure does. With centred
    /// gradients the cross block carries most of the off-diagonal energy of M.</remarks>
    /// <param name="featureMatrix">M, 2p × 2p.</param>
    /// <param name="modulus">p.</param>
    /// <param name="operation">The task's operation.</param>
    /// <returns>D in [0, 1]; NaN for a block of zeros (M = I has no cross terms), where it is undefined.</returns>
    public static double CirculantDeviation(Matrix<double> featureMatrix, int modulus, ModularOperation operation)
    {
        Validation.DefinedEnum(operation, nameof(operation));
        var block = RelabelledBlock(featureMatrix, modulus, operation);
        int q = block.RowCount;
        double norm2 = 0, variance = 0;
        for (int j = 0; j < q; j++)
        {
            double mean = 0, sq = 0;
            for (int l = 0; l < q; l++)
            {
                double v = block[l, (j + l) % q];
                mean += v;
                sq += v * v;
            }

            norm2 += sq;
            mean /= q;
            variance += (sq / q) - (mean * mean);
        }

        return norm2 == 0 ? double.NaN : Math.Clamp(variance * q / norm2, 0, 1);
    }

    /// <summary>AGOP alignment: the cosine similarity ⟨A, B⟩_F / (‖A‖_F‖B‖_F) of two feature matrices (M_t against the final M).</summary>
    /// <param name="a">A.</param>
    /// <param name="b">B, same shape.</param>
    /// <returns>The cosine similarity in [−1, 1] (0 if either is zero).</returns>
    public static double Alignment(Matrix<double> a, Matrix<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.RowCount != b.RowCount || a.ColumnCount != b.ColumnCount)
        {
            throw new ArgumentException($"Shapes differ: {a.RowCount} x {a.ColumnCount} and {b.RowCount} x {b.ColumnCount}.", nameof(b));
        }

        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.RowCount; i++)
        {
            for (int j = 0; j < a.ColumnCount; j++)
            {
                ab += a[i, j] * b[i, j];
                aa += a[i, j] * a[i, j];
                bb += b[i, j] * b[i, j];
            }
        }

        return aa == 0 || bb == 0 ? 0 : ab / Math.Sqrt(aa * bb);
    }

    /// <summary>
    /// The order of the 2p input coordinates that shows the block structure, the relabelling that
    /// <see cref="CirculantDeviation"/> uses: for × and ÷ each half is listed by discrete logarithm (residue 0 last), and for
    /// − and ÷ the b half is listed as −b (−log b), so that every block of the learned M, the cross block included,
    /// appears circulant.
    /// </summary>
    /// <param name="modulus">p.</param>
    /// <param name="operation">The operation.</param>
    /// <returns>A permutation of 0 … 2p − 1.</returns>
    public static int[] DisplayOrder(int modulus, ModularOperation operation)
    {
        Validation.DefinedEnum(operation, nameof(operation));
        int p = modulus;
        bool log = operation is ModularOperation.Multiply or ModularOperation.Divide;
        bool negate = operation is ModularOperation.Subtract or ModularOperation.Divide;
        int[] a, b;
        if (log)
        {
            var order = ModularArithmetic.DiscreteLogOrder(p);
            int q = p - 1;
            a = [.. order, 0];
            b = negate ? [.. Enumerable.Range(0, q).Select(k => order[(q - k) % q]), 0] : a;
        }
        else
        {
            a = Enumerable.Range(0, p).ToArray();
            b = negate ? a.Select(j => (p - j) % p).ToArray() : a;
        }

        return [.. a, .. b.Select(i => p + i)];
    }

    /// <summary>M with rows and columns permuted by <paramref name="order"/>.</summary>
    /// <param name="matrix">M.</param>
    /// <param name="order">A permutation of its indices.</param>
    /// <returns>The reordered copy.</returns>
    public static Matrix<double> Reorder(Matrix<double> matrix, IReadOnlyList<int> order)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(order);
        return Matrix<double>.Build.Dense(order.Count, order.Count, (i, j) => matrix[order[i], order[j]]);
    }

    private static Matrix<double> RelabelledBlock(Matrix<double> m, int p, ModularOperation operation)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.RowCount != 2 * p || m.ColumnCount != 2 * p)
        {
            throw new ArgumentException($"The feature matrix must be {2 * p} x {2 * p} for modulus {p}, but is {m.RowCount} x {m.ColumnCount}.", nameof(m));
        }

        // Columns are negated for − and ÷ (a − b = a + (−b)), which turns their Hankel cross block into a circulant one.
        bool negate = operation is ModularOperation.Subtract or ModularOperation.Divide;
        if (operation is ModularOperation.Add or ModularOperation.Subtract)
        {
            return Matrix<double>.Build.Dense(p, p, (l, j) => m[p + l, negate ? (p - j) % p : j]);
        }

        var log = ModularArithmetic.DiscreteLogOrder(p);
        int q = p - 1;
        return Matrix<double>.Build.Dense(q, q, (l, j) => m[p + log[l], log[negate ? (q - j) % q : j]]);
    }
}

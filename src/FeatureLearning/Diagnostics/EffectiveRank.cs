using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>Continuous measures of the rank of a matrix from its singular values σ₁ ≥ σ₂ ≥ … ≥ 0.</summary>
public static class EffectiveRank
{
    /// <summary>
    /// The entropy effective rank of Roy and Vetterli (2007): exp(H(p)) with pᵢ = σᵢ / Σⱼσⱼ and H(p) = −Σᵢ pᵢ·ln pᵢ (terms
    /// with pᵢ = 0 contribute 0). It equals r for a matrix with r equal nonzero singular values, lies in [1, rank] otherwise,
    /// and is 0 for the zero matrix.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="matrix">A, finite, not empty.</param>
    /// <returns>exp(H(p)).</returns>
    /// <exception cref="ArgumentException">An empty matrix or one that is not finite.</exception>
    public static double Entropy<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sigma = SingularValues(matrix, nameof(matrix));
        double sum = sigma.Sum();
        if (sum == 0)
        {
            return 0;
        }

        double entropy = 0;
        foreach (double s in sigma)
        {
            double p = s / sum;
            if (p > 0)
            {
                entropy -= p * Math.Log(p);
            }
        }

        return Math.Exp(entropy);
    }

    /// <summary>
    /// The stable rank ‖A‖_F² / ‖A‖₂² = Σσᵢ² / σ₁²: r for r equal nonzero singular values, at most the rank, and 0 for the
    /// zero matrix.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="matrix">A, finite, not empty.</param>
    /// <returns>Σσᵢ² / σ₁².</returns>
    /// <exception cref="ArgumentException">An empty matrix or one that is not finite.</exception>
    public static double Stable<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sigma = SingularValues(matrix, nameof(matrix));
        double top = sigma.Max();
        return top == 0 ? 0 : sigma.Sum(s => (s / top) * (s / top));
    }

    private static double[] SingularValues<T>(Matrix<T> matrix, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validation.NonEmptyFinite(matrix, name);
        return TangentKernelDiagnostics.ToDouble(matrix).Svd(computeVectors: false).S.Select(Math.Abs).ToArray();
    }
}

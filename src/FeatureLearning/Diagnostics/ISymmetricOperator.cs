using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// A symmetric linear operator A (Dimension × Dimension) known only through its products with blocks of vectors: a
/// Hessian, a Gauss–Newton matrix, a tangent kernel or an AGOP that is never formed. The spectral methods of
/// <see cref="Lanczos"/>, <see cref="TraceEstimator"/> and <see cref="SpectralDensity"/> take one.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision in which products are computed.</typeparam>
public interface ISymmetricOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The dimension n of A (n × n).</summary>
    int Dimension { get; }

    /// <summary>A·V for a block of column vectors V (Dimension × k); returns a new Dimension × k matrix.</summary>
    /// <param name="vectors">V, Dimension × k.</param>
    /// <returns>A·V.</returns>
    Matrix<T> Apply(Matrix<T> vectors);
}

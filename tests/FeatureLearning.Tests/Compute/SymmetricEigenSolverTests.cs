using FeatureLearning.Compute;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Tests.Compute;

public class SymmetricEigenSolverTests
{
    public static TheoryData<string, int> Matrices => new()
    {
        { "random", 1 },
        { "random", 2 },
        { "random", 3 },
        { "random", 17 },
        { "random", 122 },
        { "low-rank PSD", 40 },
        { "repeated", 30 },
        { "diagonal", 9 },
        { "zero", 5 },
        { "graded", 25 },
        { "tiny", 6 },
        { "huge", 6 },
    };

    [Theory]
    [MemberData(nameof(Matrices))]
    public void DecomposesAgreeingWithMathNet(string kind, int n)
    {
        // AV = VΛ to rounding, V orthogonal, eigenvalues ascending and equal to MathNet's (an independent implementation).
        var a = Make(kind, n, new Random((7 * n) + kind.Length));
        var (values, vectors) = SymmetricEigenSolver.Decompose(a, n);
        // Compared at unit scale: MathNet's reference and the residual's products in double would themselves underflow or
        // overflow at the extreme scales.
        double unit = a.Length == 0 ? 1 : Math.Max(a.Max(Math.Abs), double.Epsilon);
        a = a.Select(x => x / unit).ToArray();
        values = values.Select(x => x / unit).ToArray();
        var am = Matrix<double>.Build.DenseOfRowMajor(n, n, a);
        var v = Matrix<double>.Build.DenseOfRowMajor(n, n, vectors);
        double norm = Math.Max(am.FrobeniusNorm(), 1e-300);

        values.Should().BeInAscendingOrder();
        var residual = (am * v) - (v * Matrix<double>.Build.DenseOfDiagonalArray(values));
        residual.FrobeniusNorm().Should().BeLessThan(1e-13 * n * norm, $"{kind} {n}: AV = VΛ");
        ((v.Transpose() * v) - Matrix<double>.Build.DenseIdentity(n)).FrobeniusNorm().Should().BeLessThan(1e-13 * n, $"{kind} {n}: VᵀV = I");

        var reference = am.Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).OrderBy(z => z).ToArray();
        for (int j = 0; j < n; j++)
        {
            values[j].Should().BeApproximately(reference[j], 1e-13 * n * norm, $"{kind} {n}: eigenvalue {j}");
        }
    }

    [Fact]
    public void AnEmptyMatrixAndADecoupledTinyOffDiagonalAreExact()
    {
        var (values, vectors) = SymmetricEigenSolver.Decompose(ReadOnlySpan<double>.Empty, 0);
        values.Should().BeEmpty();
        vectors.Should().BeEmpty();

        // [[0, 1e-300], [1e-300, 1e10]]: the off-diagonal is negligible against the matrix, so no shift divides by it.
        (values, vectors) = SymmetricEigenSolver.Decompose(new[] { 0, 1e-300, 1e-300, 1e10 }, 2);
        values.Should().Equal(0, 1e10);
        vectors.Select(Math.Abs).Should().Equal(1, 0, 0, 1);
    }

    [Fact]
    public void RejectsNonFiniteEntries()
    {
        var a = new double[] { 1, double.NaN, double.NaN, 2 };
        var act = () => SymmetricEigenSolver.Decompose(a, 2);
        act.Should().Throw<ArgumentException>().WithParameterName("a").WithMessage("*non-finite*");
    }

    private static double[] Make(string kind, int n, Random rng)
    {
        var a = new double[n * n];
        switch (kind)
        {
            case "random":
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        a[(i * n) + j] = a[(j * n) + i] = rng.NextDouble() - 0.5;
                    }
                }

                break;
            case "low-rank PSD":
                // GGᵀ with G n × 3: an AGOP-like matrix with n − 3 zero eigenvalues.
                var g = Enumerable.Range(0, n * 3).Select(_ => rng.NextDouble() - 0.5).ToArray();
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        a[(i * n) + j] = (g[i * 3] * g[j * 3]) + (g[(i * 3) + 1] * g[(j * 3) + 1]) + (g[(i * 3) + 2] * g[(j * 3) + 2]);
                    }
                }

                break;
            case "repeated":
                // Q diag(1, 1, …, 2, 2, …) Qᵀ with a random orthogonal Q: two eigenvalues of multiplicity n/2.
                var q = Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() - 0.5).QR().Q;
                var lambda = Matrix<double>.Build.DenseOfDiagonalArray(Enumerable.Range(0, n).Select(i => i < n / 2 ? 1.0 : 2.0).ToArray());
                var m = q * lambda * q.Transpose();
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        a[(i * n) + j] = 0.5 * (m[i, j] + m[j, i]);
                    }
                }

                break;
            case "diagonal":
                for (int i = 0; i < n; i++)
                {
                    a[(i * n) + i] = n - (2 * i);
                }

                break;
            case "tiny":
            case "huge":
                // Entries near the ends of the double range: their squares underflow or overflow unless the solver scales.
                double size = kind == "tiny" ? 1e-170 : 1e170;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        a[(i * n) + j] = a[(j * n) + i] = (rng.NextDouble() - 0.5) * size;
                    }
                }

                break;
            case "graded":
                // Entries spanning many orders of magnitude.
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        a[(i * n) + j] = a[(j * n) + i] = (rng.NextDouble() - 0.5) * Math.Pow(10, -(i + j) / 4.0);
                    }
                }

                break;
        }

        return a;
    }
}

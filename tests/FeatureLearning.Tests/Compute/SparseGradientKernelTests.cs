using FeatureLearning.Compute.Managed;

namespace FeatureLearning.Tests.Compute;

/// <summary>
/// <see cref="SparseGradientKernel{T}.AddOuterProducts"/> on its own: H += RRᵀ for R[l, j·c + k] = Σ_t W'[j, i_t]·B[t, k] over
/// the non-zeros t of column l, against the gradients formed in full in double precision, with row blocks for all 16 parts
/// (<see cref="SparseGradientKernel{T}.Parts"/>; 372 rows, 31 blocks) and for fewer with a partial last part, on one worker
/// and on several: the parts are
/// claimed dynamically but summed in order, so the result must be the same bits whatever the worker count.
/// </summary>
public sealed unsafe class SparseGradientKernelTests
{
    [SkippableTheory]
    [InlineData(250, 20)]
    [InlineData(372, 5)]
    [InlineData(37, 3)]
    [InlineData(400, 17)]
    public void OuterProductsMatchTheFullGradientsAndDoNotDependOnTheWorkers(int rows, int c)
    {
        Skip.IfNot(SparseGradientKernel<double>.Supported, "the kernel needs AVX-512");
        const int n = 90, d = 10;
        var rng = new Random((7 * rows) + c);
        var w = Enumerable.Range(0, rows * n).Select(_ => rng.NextDouble()).ToArray();
        var alpha = Enumerable.Range(0, n * c).Select(_ => rng.NextDouble() - 0.5).ToArray();

        // Centre i has non-zeros in columns i mod d and (i / 3) mod d (once where they coincide), values in [0.5, 1.5).
        var columns = Enumerable.Range(0, d).Select(_ => new List<(int Row, double Value)>()).ToArray();
        for (int i = 0; i < n; i++)
        {
            columns[i % d].Add((i, 0.5 + rng.NextDouble()));
            if ((i / 3) % d != i % d)
            {
                columns[(i / 3) % d].Add((i, 0.5 + rng.NextDouble()));
            }
        }

        var start = new int[d + 1];
        for (int l = 0; l < d; l++)
        {
            start[l + 1] = start[l] + columns[l].Count;
        }

        var centreRows = columns.SelectMany(col => col.Select(e => e.Row)).ToArray();
        var scale = columns.SelectMany(col => col.Select(e => e.Value)).ToArray();
        var packed = new double[SparseGradientKernel<double>.PackedLength(centreRows.Length, c)];
        SparseGradientKernel<double>.Pack(scale, centreRows, alpha, c, packed);

        var expected = new double[d * d];
        var gradient = new double[d];
        for (int j = 0; j < rows; j++)
        {
            for (int k = 0; k < c; k++)
            {
                for (int l = 0; l < d; l++)
                {
                    gradient[l] = 0;
                    for (int t = start[l]; t < start[l + 1]; t++)
                    {
                        gradient[l] += w[(j * n) + centreRows[t]] * scale[t] * alpha[(centreRows[t] * c) + k];
                    }
                }

                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b <= a; b++)
                    {
                        expected[(a * d) + b] += gradient[a] * gradient[b];
                    }
                }
            }
        }

        var one = Run(rows, n, d, c, w, start, centreRows, packed, threads: 1);
        var several = Run(rows, n, d, c, w, start, centreRows, packed, threads: 3);
        several.Should().Equal(one, "the parts are summed in order whichever worker took them");
        TestMatrices.RelativeError(one, expected).Should().BeLessThan(1e-12);
    }

    private static double[] Run(int rows, int n, int d, int c, double[] w, int[] start, int[] centreRows, double[] packed, int threads)
    {
        var h = new double[d * d];
        fixed (double* wp = w, pp = packed, hp = h)
        {
            SparseGradientKernel<double>.AddOuterProducts(rows, n, d, c, wp, n, start, centreRows, pp, null, 0, null, 0, hp, d, threads);
        }

        // Only the lower triangle is written.
        for (int a = 0; a < d; a++)
        {
            for (int b = a + 1; b < d; b++)
            {
                h[(a * d) + b].Should().Be(0);
            }
        }

        return h;
    }
}

using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;

namespace FeatureLearning.ConvRfm;

/// <summary>
/// The convolutional kernels on patch sets, their predictions and their patch AGOP, from backend kernel matrices, block
/// sums and the GEMM-only AGOP engine.
/// </summary>
/// <remarks>
/// <para>Aligned: K = (1/P) Σ_p k_M(A_p, B_p), one m × n kernel matrix per position.</para>
/// <para>All pairs: K[i, j] = (1/P²) Σ_{p,p'} k_M(a_{i,p}, b_{j,p'}). A block of query images (rows·P patch rows) against
/// all n·P centre patches is one backend kernel matrix, reduced over its P × P blocks by
/// <see cref="IComputeBackend.BlockSum{T}"/>; the block height keeps that matrix under
/// <see cref="ConvRfmOptions.MaxBlockElements"/>.</para>
/// </remarks>
internal sealed class ConvKernel(IComputeBackend be, IKernelFunction kernel, PatchPairing pairing, long maxBlockElements)
{
    /// <summary>K ← K(A, B), m × n.</summary>
    public void Matrix(PatchSet a, PatchSet b, DeviceBuffer<double>? metric, DeviceBuffer<double> k)
    {
        if (pairing == PatchPairing.Aligned)
        {
            using var scratch = be.Allocate<double>(a.Count, b.Count);
            be.Scale(0.0, k);
            ForEachPosition(a, b, (ap, bp) =>
            {
                be.KernelMatrix(kernel, ap, bp, metric, scratch);
                be.Axpy(1.0 / a.Positions, scratch, k);
            });
            return;
        }

        var host = new double[(long)a.Count * b.Count];
        ForEachAllPairsBlock(a, b, metric, (i0, block) => be.Download(block, host.AsSpan(i0 * b.Count, block.Length)));
        be.Upload<double>(host, k);
    }

    /// <summary>Predictions K(A, B)·α for the images of <paramref name="a"/> (m × c, row-major).</summary>
    public double[] Predict(PatchSet a, PatchSet b, DeviceBuffer<double>? metric, DeviceBuffer<double> alpha)
    {
        int m = a.Count, c = alpha.Cols;
        var output = new double[m * c];
        if (pairing == PatchPairing.Aligned)
        {
            using var k = be.Allocate<double>(m, b.Count);
            using var f = be.Allocate<double>(m, c);
            Matrix(a, b, metric, k);
            be.Gemm(Transpose.None, Transpose.None, 1.0, k, alpha, 0.0, f);
            be.Download(f, output);
            return output;
        }

        ForEachAllPairsBlock(a, b, metric, (i0, block) =>
        {
            using var f = be.Allocate<double>(block.Rows, c);
            be.Gemm(Transpose.None, Transpose.None, 1.0, block, alpha, 0.0, f);
            be.Download(f, output.AsSpan(i0 * c, block.Rows * c));
        });
        return output;
    }

    /// <summary>
    /// The patch AGOP G = (1/m) Σ_{i∈S} Σ_p Σ_k ∇_{x_{i,p}} f_k ∇_{x_{i,p}} f_kᵀ of the machine with centres
    /// <paramref name="centres"/> and coefficients <paramref name="alpha"/> (n × c), over the images of
    /// <paramref name="sample"/>, every patch copy its own variable (d × d, row-major).
    /// </summary>
    /// <remarks>
    /// Aligned: ∇_{x_{i,p}} f_k = (1/P) Σ_j α_jk ∇k_M(x_{i,p}, x_{j,p}) is the gradient of the kernel machine on position p
    /// with coefficients α/P, so G is the sum over p of that machine's AGOP. All pairs:
    /// ∇_{x_{i,p}} f_k = Σ_{j,p'} (α_jk/P²) ∇k_M(x_{i,p}, x_{j,p'}) is the gradient of one machine whose centres are all
    /// n·P training patches with coefficients α_j/P², evaluated at the m·P sample patches: its AGOP (an average over the
    /// m·P patch rows) times P. Its m·P × n·P derivative weights are formed in row blocks.
    /// </remarks>
    public double[] Agop(PatchSet sample, PatchSet centres, Metric metric, DeviceBuffer<double>? metricBuffer, DeviceBuffer<double> alpha, CancellationToken cancellationToken)
    {
        int n = centres.Count, d = centres.Dimension, positions = centres.Positions, c = alpha.Cols;
        var g = new double[d * d];
        if (pairing == PatchPairing.Aligned)
        {
            using var scaled = be.Allocate<double>(n, c);
            using var k = be.Allocate<double>(sample.Count, n);
            using var w = be.Allocate<double>(sample.Count, n);
            be.Copy(alpha, scaled);
            be.Scale(1.0 / positions, scaled);
            ForEachPosition(sample, centres, (sp, cp) =>
            {
                be.KernelMatrix(kernel, sp, cp, metricBuffer, k, w);
                var gp = AgopEngine.Compute(be, kernel, metric, metricBuffer, sp, cp, scaled, w, false, AgopForm.Auto, cancellationToken);
                for (int i = 0; i < g.Length; i++)
                {
                    g[i] += gp[i];
                }
            });
            return g;
        }

        var alphaHost = new double[n * c];
        be.Download(alpha, alphaHost);
        var spread = new double[(long)n * positions * c];
        double share = 1.0 / ((double)positions * positions);
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < positions; p++)
            {
                for (int k = 0; k < c; k++)
                {
                    spread[(((long)j * positions) + p) * c + k] = alphaHost[(j * c) + k] * share;
                }
            }
        }

        using var allCentres = be.Upload<double>(centres.ImageMajor, n * positions, d);
        using var spreadAlpha = be.Upload<double>(spread, n * positions, c);
        int rows = sample.Count * positions;
        int blockRows = (int)Math.Clamp(maxBlockElements / ((long)n * positions), 1, rows);
        var all = AgopEngine.ComputeBlocked(
            be, kernel, metric, metricBuffer, sample.ImageMajor, rows, allCentres, spreadAlpha, false, AgopForm.Auto, blockRows, cancellationToken);
        for (int i = 0; i < g.Length; i++)
        {
            g[i] = all[i] * positions;
        }

        return g;
    }

    /// <summary>Calls <paramref name="action"/> with the device matrices of each patch position of both sets.</summary>
    private void ForEachPosition(PatchSet a, PatchSet b, Action<DeviceBuffer<double>, DeviceBuffer<double>> action)
    {
        for (int p = 0; p < a.Positions; p++)
        {
            using var ap = be.Upload<double>(a.PerPosition[p], a.Count, a.Dimension);
            using var bp = ReferenceEquals(a, b) ? null : be.Upload<double>(b.PerPosition[p], b.Count, b.Dimension);
            action(ap, bp ?? ap);
        }
    }

    /// <summary>
    /// Calls <paramref name="action"/>(first image, K block) for consecutive blocks of the images of <paramref name="a"/>,
    /// with K block (rows × n) the all-pairs kernel of those images against all of <paramref name="b"/>.
    /// </summary>
    private void ForEachAllPairsBlock(PatchSet a, PatchSet b, DeviceBuffer<double>? metric, Action<int, DeviceBuffer<double>> action)
    {
        int positions = a.Positions, d = a.Dimension, n = b.Count;
        long centreRows = (long)n * positions;
        if (centreRows > int.MaxValue)
        {
            throw new ArgumentException($"{n} images of {positions} patches exceed the 2^31 rows of a patch matrix.", nameof(b));
        }

        using var centres = be.Upload<double>(b.ImageMajor, (int)centreRows, d);
        int imagesPerBlock = (int)Math.Clamp(maxBlockElements / (centreRows * positions), 1, a.Count);
        double scale = 1.0 / ((double)positions * positions);
        for (int i0 = 0; i0 < a.Count; i0 += imagesPerBlock)
        {
            int rows = Math.Min(imagesPerBlock, a.Count - i0);
            using var queries = be.Upload<double>(a.ImageMajor.AsSpan(i0 * positions * d, rows * positions * d), rows * positions, d);
            using var pairs = be.Allocate<double>(rows * positions, (int)centreRows);
            using var block = be.Allocate<double>(rows, n);
            be.KernelMatrix(kernel, queries, centres, metric, pairs);
            be.BlockSum(pairs, positions, positions, scale, block);
            action(i0, block);
        }
    }
}

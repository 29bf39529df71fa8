using System.Numerics;
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
/// <para>The patches are device-resident (<see cref="DevicePatchSet{T}"/>, uploaded once per fit or prediction) and nothing
/// of size n·P or n × m crosses between host and device: an all-pairs block's query rows are a row view of the resident
/// image-major patches, its reduction is written straight into its rows of K (a row view), the blocked AGOP takes its
/// sample rows as row views too, and the spread coefficients α/P² of the all-pairs AGOP are formed on the device (a
/// reshape view of the (n·P) × c spread matrix whose column blocks α is copied into). Predictions download only the
/// m × c outputs.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the element type of every buffer.</typeparam>
internal sealed class ConvKernel<T>(IComputeBackend be, IKernelFunction kernel, PatchPairing pairing, long maxBlockElements)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Uploads <paramref name="set"/> in this kernel's layout; the caller disposes it.</summary>
    public DevicePatchSet<T> Upload(PatchSet<T> set) => new(be, set, pairing);

    /// <summary>K ← K(A, B), m × n.</summary>
    public void Matrix(DevicePatchSet<T> a, DevicePatchSet<T> b, DeviceBuffer<T>? metric, DeviceBuffer<T> k)
    {
        if (pairing == PatchPairing.Aligned)
        {
            using var scratch = be.Allocate<T>(a.Count, b.Count);
            be.Scale(T.Zero, k);
            for (int p = 0; p < a.Positions; p++)
            {
                be.KernelMatrix(kernel, a.Position(p), b.Position(p), metric, scratch);
                be.Axpy(T.CreateTruncating(1.0 / a.Positions), scratch, k);
            }

            return;
        }

        foreach (var (i0, rows) in AllPairsBlocks(a, b))
        {
            AllPairsBlock(a, i0, rows, b, metric, k.RowRange(i0, rows));
        }
    }

    /// <summary>Predictions K(A, B)·α for the images of <paramref name="a"/> (m × c, row-major).</summary>
    public T[] Predict(DevicePatchSet<T> a, DevicePatchSet<T> b, DeviceBuffer<T>? metric, DeviceBuffer<T> alpha)
    {
        int m = a.Count, c = alpha.Cols;
        var output = new T[m * c];
        using var f = be.Allocate<T>(m, c);
        if (pairing == PatchPairing.Aligned)
        {
            using var k = be.Allocate<T>(m, b.Count);
            Matrix(a, b, metric, k);
            be.Gemm(Transpose.None, Transpose.None, T.One, k, alpha, T.Zero, f);
        }
        else
        {
            // One rows × n kernel block at a time; its predictions land in their rows of F.
            using var block = be.Allocate<T>(Math.Min(ImagesPerBlock(b), m), b.Count);
            foreach (var (i0, rows) in AllPairsBlocks(a, b))
            {
                var kb = block.RowRange(0, rows);
                AllPairsBlock(a, i0, rows, b, metric, kb);
                be.Gemm(Transpose.None, Transpose.None, T.One, kb, alpha, T.Zero, f.RowRange(i0, rows));
            }
        }

        be.Download(f, output);
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
    public double[] Agop(DevicePatchSet<T> sample, DevicePatchSet<T> centres, Metric metric, DeviceBuffer<T>? metricBuffer, DeviceBuffer<T> alpha, CancellationToken cancellationToken)
    {
        int n = centres.Count, d = centres.Dimension, positions = centres.Positions, c = alpha.Cols;
        var g = new double[d * d];
        if (pairing == PatchPairing.Aligned)
        {
            using var scaled = be.Allocate<T>(n, c);
            using var k = be.Allocate<T>(sample.Count, n);
            using var w = be.Allocate<T>(sample.Count, kernel.DerivativeWeightColumns(n));
            be.Copy(alpha, scaled);
            be.Scale(T.CreateTruncating(1.0 / positions), scaled);
            for (int p = 0; p < positions; p++)
            {
                be.KernelMatrix(kernel, sample.Position(p), centres.Position(p), metricBuffer, k, w);
                var gp = AgopEngine.Compute(be, kernel, metric, metricBuffer, sample.Position(p), centres.Position(p), scaled, w, false, AgopForm.Auto, cancellationToken);
                for (int i = 0; i < g.Length; i++)
                {
                    g[i] += gp[i];
                }
            }

            return g;
        }

        using var spreadAlpha = SpreadCoefficients(alpha, positions);
        int rows = sample.Count * positions, centreRows = n * positions;
        int blockRows = (int)Math.Clamp(maxBlockElements / (long)centreRows, 1, rows);
        double[] all;
        if (blockRows >= rows)
        {
            using var k = be.Allocate<T>(rows, centreRows);
            using var w = be.Allocate<T>(rows, kernel.DerivativeWeightColumns(centreRows));
            be.KernelMatrix(kernel, sample.ImageMajor, centres.ImageMajor, metricBuffer, k, w);
            all = AgopEngine.Compute(be, kernel, metric, metricBuffer, sample.ImageMajor, centres.ImageMajor, spreadAlpha, w, false, AgopForm.Auto, cancellationToken);
        }
        else
        {
            all = AgopEngine.ComputeBlocked(
                be, kernel, metric, metricBuffer, sample.ImageMajor, centres.ImageMajor, spreadAlpha, false, AgopForm.Auto, blockRows, cancellationToken);
        }

        for (int i = 0; i < g.Length; i++)
        {
            g[i] = all[i] * positions;
        }

        return g;
    }

    /// <summary>
    /// The (n·P) × c coefficients of the all-pairs patch machine, row j·P + p = α_j/P², formed on the device: reshaped to
    /// n × (P·c), the spread matrix's column block p·c … p·c + c − 1 is rows p of every image, a strided view α is copied into.
    /// </summary>
    private DeviceBuffer<T> SpreadCoefficients(DeviceBuffer<T> alpha, int positions)
    {
        int n = alpha.Rows, c = alpha.Cols;
        var spread = be.Allocate<T>(n * positions, c);
        try
        {
            var byImage = spread.Reshape(n, positions * c);
            for (int p = 0; p < positions; p++)
            {
                be.Copy(alpha, byImage.ColumnRange(p * c, c));
            }

            be.Scale(T.CreateTruncating(1.0 / ((double)positions * positions)), spread);
            return spread;
        }
        catch
        {
            spread.Dispose();
            throw;
        }
    }

    /// <summary>How many query images one all-pairs block holds against the centres <paramref name="b"/>.</summary>
    private int ImagesPerBlock(DevicePatchSet<T> b)
    {
        long centreRows = (long)b.Count * b.Positions;
        return (int)Math.Clamp(maxBlockElements / (centreRows * b.Positions), 1, int.MaxValue);
    }

    /// <summary>The consecutive blocks (first image, images) of <paramref name="a"/> whose all-pairs kernel against <paramref name="b"/> is formed at once.</summary>
    private IEnumerable<(int Start, int Rows)> AllPairsBlocks(DevicePatchSet<T> a, DevicePatchSet<T> b)
    {
        int imagesPerBlock = Math.Min(ImagesPerBlock(b), a.Count);
        for (int i0 = 0; i0 < a.Count; i0 += imagesPerBlock)
        {
            yield return (i0, Math.Min(imagesPerBlock, a.Count - i0));
        }
    }

    /// <summary>
    /// <paramref name="result"/> (rows × n, a buffer or a row view) ← the all-pairs kernel of the images i0 … i0 + rows − 1
    /// of <paramref name="a"/> against all of <paramref name="b"/>: one patch kernel matrix of those images' rows of the
    /// resident image-major patches (a row view, no upload) reduced over its P × P blocks.
    /// </summary>
    private void AllPairsBlock(DevicePatchSet<T> a, int i0, int rows, DevicePatchSet<T> b, DeviceBuffer<T>? metric, DeviceBuffer<T> result)
    {
        int positions = a.Positions;
        using var pairs = be.Allocate<T>(rows * positions, b.Count * positions);
        be.KernelMatrix(kernel, a.ImageMajor.RowRange(i0 * positions, rows * positions), b.ImageMajor, metric, pairs);
        be.BlockSum(pairs, positions, positions, T.CreateTruncating(1.0 / ((double)positions * positions)), result);
    }
}

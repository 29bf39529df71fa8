using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;

namespace FeatureLearning.Solvers;

/// <summary>
/// One Nyström system (K_nmᵀK_nm + λLLᵀ)β = K_nmᵀY on the device, solved by conjugate gradients with Falkon's
/// preconditioner (see <see cref="NystromSolver"/> for the maths and the scaling), and the training predictions K_nmβ.
/// </summary>
/// <remarks>
/// <para>The CPU backends solve with L alone. The other backends have no triangular solve, only the Cholesky solve (LLᵀ)⁻¹;
/// there the preconditioner's one-sided solves are taken through it with the clean lower factor L (its strict upper triangle zeroed): L⁻¹r = Lᵀ(LLᵀ)⁻¹r and
/// L⁻ᵀs = (LLᵀ)⁻¹Ls. Each costs one Cholesky solve and one m × m GEMM, and loses about cond(L) = √cond(K_mm) units of
/// rounding, which only makes the preconditioner slightly inexact (the system solved is unchanged).</para>
/// <para>Several outputs run as one block of c columns with column-wise CG scalars (c independent CGs sharing each GEMM);
/// a column that has converged is frozen (its step and direction scalars are 0).</para>
/// </remarks>
internal sealed class NystromSystem<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IComputeBackend be;
    private readonly IKernelFunction kernel;
    private readonly DeviceBuffer<T> x;
    private readonly DeviceBuffer<T>? metric;
    private readonly DeviceBuffer<T> centres;
    private readonly DeviceBuffer<T> l, la;
    private readonly DeviceBuffer<T>? knm;
    private readonly DeviceBuffer<T>? block;
    private readonly int n, m, blockRows;
    private readonly double ridge;

    /// <summary>Forms K_mm, factors it and the preconditioner's second matrix, and K_nm when it fits the budget.</summary>
    /// <param name="be">The backend.</param>
    /// <param name="kernel">The kernel.</param>
    /// <param name="x">The training inputs on the device, n × d (kept, not owned).</param>
    /// <param name="metric">The uploaded metric (kept, not owned).</param>
    /// <param name="centres">The centres on the device, m × d (kept, not owned).</param>
    /// <param name="ridge">λ ≥ 0 in the library's convention.</param>
    /// <param name="options">The solver options.</param>
    /// <param name="cholesky">Jitter policy of both factorizations.</param>
    /// <param name="cancellationToken">Checked between the steps.</param>
    public NystromSystem(
        IComputeBackend be, IKernelFunction kernel, DeviceBuffer<T> x, DeviceBuffer<T>? metric, DeviceBuffer<T> centres, double ridge,
        NystromSolver options, CholeskyOptions cholesky, CancellationToken cancellationToken)
    {
        (this.be, this.kernel, this.x, this.metric, this.centres, this.ridge) = (be, kernel, x, metric, centres, ridge);
        (n, m) = (x.Rows, centres.Rows);
        blockRows = Math.Min(options.BlockRows, n);
        l = be.Allocate<T>(m, m);
        la = be.Allocate<T>(m, m);
        try
        {
            // K_mm = LLᵀ, then the strict upper triangle cleared so that L can be multiplied.
            be.KernelMatrix(kernel, centres, centres, metric, l);
            cancellationToken.ThrowIfCancellationRequested();
            Jitter = be.CholeskyFactor(l, cholesky, cancellationToken).Jitter;
            ZeroStrictUpper(l);

            // LᵀL/m + (λ/n)I = L_A L_Aᵀ.
            be.Syrk(Transpose.Transpose, T.One / T.CreateTruncating(m), l, T.Zero, la);
            if (ridge > 0)
            {
                be.AddDiagonal(la, T.CreateTruncating(ridge / n));
            }

            be.CholeskyFactor(la, cholesky, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();

            long bytes = (long)n * m * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            if (bytes <= options.MemoryBudgetBytes)
            {
                knm = be.Allocate<T>(n, m);
                be.KernelMatrix(kernel, x, centres, metric, knm);
            }
            else
            {
                block = be.Allocate<T>(blockRows, m);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The jitter the factorization of K_mm added (0 when none).</summary>
    public double Jitter { get; }

    /// <summary>Whether K_nm is stored.</summary>
    public bool Stored => knm is not null;

    /// <summary>
    /// Solves for β (m × c, written to <paramref name="beta"/>) with right-hand side K_nmᵀY.
    /// </summary>
    /// <param name="y">Y on the device, n × c.</param>
    /// <param name="beta">The m × c destination.</param>
    /// <param name="maxIterations">Iteration cap.</param>
    /// <param name="tolerance">Relative residual to reach in every column.</param>
    /// <param name="onIteration">Called after each iteration with (iteration, largest relative residual).</param>
    /// <param name="cancellationToken">Checked every iteration and every streamed block.</param>
    /// <param name="fitted">
    /// Where K_nm is streamed, an n × c buffer that receives the training predictions K_nmβ, kept up to date through the
    /// iterations (K_nmβ_{k+1} = K_nmβ_k + a_k·K_nm p_k, and every iteration forms K_nm p_k anyway), which saves the
    /// separate pass over K_nm that <see cref="Predict"/> costs; ignored (and left untouched) where K_nm is stored.
    /// </param>
    /// <returns>The iterations taken, whether every column converged, the residual history, and whether
    /// <paramref name="fitted"/> was filled.</returns>
    public (int Iterations, bool Converged, List<double> History, bool Fitted) Solve(
        DeviceBuffer<T> y, DeviceBuffer<T> beta, int maxIterations, double tolerance, Action<int, double>? onIteration, CancellationToken cancellationToken,
        DeviceBuffer<T>? fitted = null)
    {
        int c = y.Cols;
        bool track = fitted is not null && knm is null;
        using var r = be.Allocate<T>(m, c);
        using var z = be.Allocate<T>(m, c);
        using var p = be.Allocate<T>(m, c);
        using var hp = be.Allocate<T>(m, c);
        using var scratch = be.Allocate<T>(m, c);
        using var scalars = be.Allocate<T>(1, c);
        using var products = be.Allocate<T>(knm is null && !track ? blockRows : n, c);
        var step = new T[c];

        // r = b = K_nmᵀY, β = 0.
        MultiplyTransposed(y, r, cancellationToken);
        be.Scale(T.Zero, beta);
        if (track)
        {
            be.Scale(T.Zero, fitted!);
        }

        Precondition(r, z, scratch);
        be.Copy(z, p);
        var rz = ColumnDots(r, z);
        var rz0 = (double[])rz.Clone();
        var residual = new double[c];
        var done = new bool[c];
        for (int k = 0; k < c; k++)
        {
            done[k] = !(rz0[k] > 0);
            residual[k] = done[k] ? 0 : 1;
        }

        var history = new List<double> { residual.Max() };
        int iteration = 0;
        while (!done.All(v => v) && iteration < maxIterations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            iteration++;

            // a_k = r_kᵀz_k / p_kᵀHp_k; β += a∘p; r −= a∘Hp.
            ApplySystem(p, hp, scratch, products, cancellationToken);
            var php = ColumnDots(p, hp);
            for (int k = 0; k < c; k++)
            {
                step[k] = done[k] || !(php[k] > 0) ? T.Zero : T.CreateTruncating(rz[k] / php[k]);
            }

            be.Upload<T>(step, scalars);
            be.Copy(p, scratch);
            be.ScaleColumns(scratch, scalars);
            be.Axpy(T.One, scratch, beta);
            be.Copy(hp, scratch);
            be.ScaleColumns(scratch, scalars);
            be.Axpy(-T.One, scratch, r);
            if (track)
            {
                // products holds K_nm·p (n × c) from ApplySystem; it is overwritten in the next iteration.
                be.ScaleColumns(products, scalars);
                be.Axpy(T.One, products, fitted!);
            }

            // z = Pr; g_k = r_kᵀz_k (new) / r_kᵀz_k (old); p = z + g∘p.
            Precondition(r, z, scratch);
            var rzNew = ColumnDots(r, z);
            for (int k = 0; k < c; k++)
            {
                if (!done[k])
                {
                    residual[k] = Math.Sqrt(Math.Max(rzNew[k], 0) / rz0[k]);
                    done[k] = residual[k] <= tolerance || !(php[k] > 0);
                }

                step[k] = done[k] || !(rz[k] > 0) ? T.Zero : T.CreateTruncating(rzNew[k] / rz[k]);
            }

            rz = rzNew;
            history.Add(residual.Max());
            onIteration?.Invoke(iteration, history[^1]);
            be.Upload<T>(step, scalars);
            be.ScaleColumns(p, scalars);
            be.Axpy(T.One, z, p);
        }

        return (iteration, residual.All(v => v <= tolerance), history, track);
    }

    /// <summary>The training predictions K_nmβ (n × c) into <paramref name="result"/>.</summary>
    /// <param name="beta">β, m × c.</param>
    /// <param name="result">The n × c destination.</param>
    /// <param name="cancellationToken">Checked every streamed block.</param>
    public void Predict(DeviceBuffer<T> beta, DeviceBuffer<T> result, CancellationToken cancellationToken)
    {
        if (knm is not null)
        {
            be.Gemm(Transpose.None, Transpose.None, T.One, knm, beta, T.Zero, result);
            return;
        }

        ForEachBlock((kb, i0, rows) =>
        {
            using var rb = result.RowRange(i0, rows);
            be.Gemm(Transpose.None, Transpose.None, T.One, kb, beta, T.Zero, rb);
        }, cancellationToken);
    }

    public void Dispose()
    {
        l.Dispose();
        la.Dispose();
        knm?.Dispose();
        block?.Dispose();
    }

    /// <summary>result = K_nmᵀ V for an n × c V.</summary>
    private void MultiplyTransposed(DeviceBuffer<T> v, DeviceBuffer<T> result, CancellationToken cancellationToken)
    {
        if (knm is not null)
        {
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, knm, v, T.Zero, result);
            return;
        }

        be.Scale(T.Zero, result);
        ForEachBlock((kb, i0, rows) =>
        {
            using var vb = v.RowRange(i0, rows);
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, kb, vb, T.One, result);
        }, cancellationToken);
    }

    /// <summary>
    /// result = (K_nmᵀK_nm + λLLᵀ)v, with <paramref name="scratch"/> (m × c) and <paramref name="t"/> (K_nm·v: n × c when
    /// K_nm is stored or the caller keeps the whole product, else BlockRows × c, one block at a time) as workspace.
    /// </summary>
    private void ApplySystem(DeviceBuffer<T> v, DeviceBuffer<T> result, DeviceBuffer<T> scratch, DeviceBuffer<T> t, CancellationToken cancellationToken)
    {
        if (knm is not null && be is CpuBackend)
        {
            // One pass over the stored K_nm instead of two: each row block is multiplied by v and, while it is still in the
            // last-level cache, its transpose by the block of t. The products are memory-bound (K_nm is read once per
            // GEMV), so this halves the traffic of the iteration's largest term.
            be.Scale(T.Zero, result);
            int rows = Math.Min(blockRows, FusedBlockRows(m, System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
            for (int i0 = 0; i0 < n; i0 += rows)
            {
                using var kb = knm.RowRange(i0, Math.Min(rows, n - i0));
                AddBlockProduct(kb, i0, v, t, result);
            }
        }
        else if (knm is not null)
        {
            be.Gemm(Transpose.None, Transpose.None, T.One, knm, v, T.Zero, t);
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, knm, t, T.Zero, result);
        }
        else
        {
            be.Scale(T.Zero, result);
            ForEachBlock((kb, i0, _) => AddBlockProduct(kb, i0, v, t, result), cancellationToken);
        }

        if (ridge > 0)
        {
            be.Gemm(Transpose.Transpose, Transpose.None, T.One, l, v, T.Zero, scratch);
            be.Gemm(Transpose.None, Transpose.None, T.CreateTruncating(ridge), l, scratch, T.One, result);
        }
    }

    /// <summary>
    /// result += K_bᵀ(K_b·v) for the row block K_b of K_nm starting at row <paramref name="i0"/>, with K_b·v written to
    /// <paramref name="t"/> at the block's rows when t holds all n rows, else at its top.
    /// </summary>
    private void AddBlockProduct(DeviceBuffer<T> kb, int i0, DeviceBuffer<T> v, DeviceBuffer<T> t, DeviceBuffer<T> result)
    {
        using var tb = t.RowRange(t.Rows == n ? i0 : 0, kb.Rows);
        be.Gemm(Transpose.None, Transpose.None, T.One, kb, v, T.Zero, tb);
        be.Gemm(Transpose.Transpose, Transpose.None, T.One, kb, tb, T.One, result);
    }

    /// <summary>
    /// Rows of the stored K_nm per block of the fused product on a CPU (at most <see cref="NystromSolver.BlockRows"/>): blocks of
    /// about <see cref="FusedBlockBytes"/> bytes, so that the block read by K_b·v is still cached when K_bᵀ·t_b reads it again.
    /// </summary>
    internal static int FusedBlockRows(int m, int elementSize) => (int)Math.Max(16, FusedBlockBytes / ((long)m * elementSize));

    /// <summary>The size of one row block of the fused product: 4 MiB, well inside the last-level cache of current CPUs.</summary>
    internal const long FusedBlockBytes = 4L << 20;

    /// <summary>z = P r = (1/n) L⁻ᵀ(L_A L_Aᵀ)⁻¹L⁻¹ r, through L⁻¹r = Lᵀ(LLᵀ)⁻¹r and L⁻ᵀs = (LLᵀ)⁻¹Ls.</summary>
    private void Precondition(DeviceBuffer<T> r, DeviceBuffer<T> z, DeviceBuffer<T> scratch)
    {
        if (be is CpuBackend cpu)
        {
            // The CPU backends solve with L alone: four passes over a triangle instead of six and two full m × m GEMMs
            // (memory-bound: counted in bytes, 2m² elements instead of 5m²).
            be.Copy(r, z);
            cpu.TriangularSolve(l, z, transpose: false);
            be.CholeskySolve(la, z);
            be.Scale(T.One / T.CreateTruncating(n), z);
            cpu.TriangularSolve(l, z, transpose: true);
            return;
        }

        be.Copy(r, z);
        be.CholeskySolve(l, z);
        be.Gemm(Transpose.Transpose, Transpose.None, T.One, l, z, T.Zero, scratch);
        be.CholeskySolve(la, scratch);
        be.Gemm(Transpose.None, Transpose.None, T.One / T.CreateTruncating(n), l, scratch, T.Zero, z);
        be.CholeskySolve(l, z);
    }

    /// <summary>Σ_i A_ik B_ik per column k, accumulated in double.</summary>
    private double[] ColumnDots(DeviceBuffer<T> a, DeviceBuffer<T> b)
    {
        var dots = new double[a.Cols];
        for (int k = 0; k < dots.Length; k++)
        {
            using var ak = a.ColumnRange(k, 1);
            using var bk = b.ColumnRange(k, 1);
            dots[k] = be.Dot(ak, bk);
        }

        return dots;
    }

    /// <summary>Calls <paramref name="action"/>(K_b, first row, rows) for each row block K_b of K_nm, computed into the block buffer.</summary>
    private void ForEachBlock(Action<DeviceBuffer<T>, int, int> action, CancellationToken cancellationToken)
    {
        for (int i0 = 0; i0 < n; i0 += blockRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(blockRows, n - i0);
            using var xb = x.RowRange(i0, rows);
            using var kb = block!.RowRange(0, rows);
            be.KernelMatrix(kernel, xb, centres, metric, kb);
            action(kb, i0, rows);
        }
    }

    /// <summary>Sets the strict upper triangle of a square buffer to 0, one row view at a time.</summary>
    private void ZeroStrictUpper(DeviceBuffer<T> a)
    {
        for (int i = 0; i < m - 1; i++)
        {
            using var row = a.Slice(i, 1, i + 1, m - i - 1);
            be.Scale(T.Zero, row);
        }
    }
}

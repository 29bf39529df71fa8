using System.Numerics;
using FeatureLearning.Backends.Ilgpu.Device;
using FeatureLearning.Compute;
using FeatureLearning.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FeatureLearning.Backends.Ilgpu;

/// <content>The fused kernel matrix: centring, the metric, one GEMM, the norms, then the kernel profile on the device (<see cref="DeviceEpilogue{T}"/>) or, for kernels that cannot run there, on the host.</content>
public sealed partial class IlgpuBackend
{
    /// <summary>Elements of the kernel matrix per host round trip when the profile is evaluated on the host.</summary>
    private const int EpilogueHostBlock = 1 << 20;

    /// <inheritdoc />
    public void KernelMatrix<T, TKernel>(in TKernel kernel, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T>? metric, DeviceBuffer<T> result, DeviceBuffer<T>? derivativeWeights = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction =>
        KernelMatrixOperands<T, IlgpuBuffer<T>>.Run(this, Own<T>, kernel, x, z, metric, result, derivativeWeights, KernelMatrixStaged<T, TKernel>);

    /// <summary>The kernel matrix on contiguous operands (strided views staged by <see cref="KernelMatrixOperands{T, TBuffer}"/>), under the backend's lock.</summary>
    private void KernelMatrixStaged<T, TKernel>(TKernel kernel, KernelMatrixOperands<T, IlgpuBuffer<T>> operands)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        using var exclusive = Enter();
        var (gx, gz, gm, gr, gw) = (operands.X, operands.Z, operands.Metric, operands.Result, operands.Weights);
        int n = gx.Rows, m = gz.Rows, d = gx.Cols;
        bool radial = kernel.Geometry == KernelGeometry.Radial;
        bool same = operands.Same;
        var normKernel = operands.NormKernel;
        var kernels = Kernels<T>();
        IlgpuBuffer<T>? xm = null, zm = null, xNorms = null, zNorms = null, xCentred = null, zCentred = null;
        try
        {
            if (radial)
            {
                // Shift-invariance: centre X and Z on the mean of Z, so ‖x‖² + ‖z‖² − 2xᵀMz does not cancel (KernelCentring).
                (xCentred, zCentred) = Centre(gx, gz, same, n, m, d);
                (gx, gz) = (xCentred, zCentred ?? xCentred);
            }

            // XM = X·M (or X with its columns scaled); G = XM·Zᵀ; norms x_iᵀMx_i and z_jᵀMz_j for radial kernels.
            xm = gm is null ? null : ApplyMetric(gx, gm);
            GemmCore(false, true, n, m, d, T.One, xm ?? gx, 0, d, gz, 0, d, T.Zero, gr, 0, m, lowerOnly: false);
            if (radial || normKernel is not null)
            {
                xNorms = (IlgpuBuffer<T>)Allocate<T>(n, 1);
                kernels.RowDot(n, d, (xm ?? gx).View, d, gx.View, d, xNorms.View, 1);
                if (!same)
                {
                    zm = gm is null ? null : ApplyMetric(gz, gm);
                    zNorms = (IlgpuBuffer<T>)Allocate<T>(m, 1);
                    kernels.RowDot(m, d, (zm ?? gz).View, d, gz.View, d, zNorms.View, 1);
                }

                KernelCentring.CheckNorms<T>(HostCopy.ToHostArray<T>(clock, xNorms.View), "x");
                if (zNorms is not null)
                {
                    KernelCentring.CheckNorms<T>(HostCopy.ToHostArray<T>(clock, zNorms.View), "z");
                }
            }

            if (normKernel is not null)
            {
                // κ(u, a, b) has no device form yet: u and the norms go to the host, the values and weights come back.
                Interlocked.Increment(ref hostEpilogues);
                EvaluateNormKernelOnHost(normKernel, gr, xNorms!, same ? xNorms! : zNorms!, gw);
                return;
            }

            var xn = xNorms ?? gr;
            var zn = (same ? xNorms : zNorms) ?? gr;
            double tolerance = typeof(T) == typeof(float) ? 64 * 1.1920929e-7 : 64 * 2.220446049250313e-16;
            var device = new DeviceEpilogue<T>(kernels, n, m, gr, xn, zn, gw, radial, tolerance);
            if (kernel.Accept(device) && device.Launched)
            {
                return;
            }

            Interlocked.Increment(ref hostEpilogues);

            // Host fallback: the statistic on the device, the profile on the host in blocks.
            kernels.KernelEpilogue(n, m, gr.View, xn.View, zn.View, (gw ?? gr).View, radial, withWeights: false, tolerance, default(RawStatistic));
            EvaluateOnHost(kernel, gr, gw);
        }
        finally
        {
            xm?.Dispose();
            zm?.Dispose();
            xNorms?.Dispose();
            zNorms?.Dispose();
            xCentred?.Dispose();
            zCentred?.Dispose();
        }
    }

    /// <summary>X − 1cᵀ and Z − 1cᵀ with c the column mean of Z, by two rank-1 GEMMs (Z's copy is null when X is Z).</summary>
    private (IlgpuBuffer<T> X, IlgpuBuffer<T>? Z) Centre<T>(IlgpuBuffer<T> x, IlgpuBuffer<T> z, bool same, int n, int m, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = Math.Max(n, m);
        var ones = new T[rows];
        Array.Fill(ones, T.One);
        using var onesBuffer = (IlgpuBuffer<T>)Upload<T>(ones, rows, 1);
        using var centre = (IlgpuBuffer<T>)Allocate<T>(1, d);
        GemmCore(true, false, 1, d, m, T.One / T.CreateTruncating(m), onesBuffer, 0, 1, z, 0, d, T.Zero, centre, 0, d, lowerOnly: false);

        IlgpuBuffer<T> Shifted(IlgpuBuffer<T> a, int count)
        {
            var shifted = (IlgpuBuffer<T>)Allocate<T>(count, d);
            shifted.View.CopyFrom(a.View);
            GemmCore(false, false, count, d, 1, -T.One, onesBuffer, 0, 1, centre, 0, d, T.One, shifted, 0, d, lowerOnly: false);
            return shifted;
        }

        var xc = Shifted(x, n);
        return (xc, same ? null : Shifted(z, m));
    }

    private IlgpuBuffer<T> ApplyMetric<T>(IlgpuBuffer<T> x, IlgpuBuffer<T> metric)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Rows, d = x.Cols;
        var xm = (IlgpuBuffer<T>)Allocate<T>(n, d);
        if (metric.Rows == d && metric.Cols == d && d > 1)
        {
            GemmCore(false, false, n, d, d, T.One, x, 0, d, metric, 0, d, T.Zero, xm, 0, d, lowerOnly: false);
        }
        else
        {
            xm.View.CopyFrom(x.View);
            Kernels<T>().ScaleByVector(xm.View, n, d, d, metric.View, 1, byRow: false);
        }

        return xm;
    }

    private void EvaluateOnHost<T, TKernel>(TKernel kernel, IlgpuBuffer<T> statistics, IlgpuBuffer<T>? weights)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : IKernelFunction
    {
        long length = statistics.LongLength;
        var u = new T[(int)Math.Min(length, EpilogueHostBlock)];
        var values = new T[u.Length];
        for (long start = 0; start < length; start += u.Length)
        {
            int count = (int)Math.Min(u.Length, length - start);
            var us = u.AsSpan(0, count);
            var vs = values.AsSpan(0, count);
            HostCopy.ToHost(clock, statistics.View.SubView(start, count), us);
            kernel.Evaluate<T>(us, vs);
            HostCopy.ToDevice<T>(clock, vs, statistics.View.SubView(start, count));
            if (weights is not null)
            {
                kernel.EvaluateDerivative<T>(us, vs, us);
                HostCopy.ToDevice<T>(clock, us, weights.View.SubView(start, count));
            }
        }
    }

    private void EvaluateNormKernelOnHost<T>(INormDependentKernel kernel, IlgpuBuffer<T> statistics, IlgpuBuffer<T> xNorms, IlgpuBuffer<T> zNorms, IlgpuBuffer<T>? weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = statistics.Rows, m = statistics.Cols;
        var a = HostCopy.ToHostArray<T>(clock, xNorms.View);
        var b = HostCopy.ToHostArray<T>(clock, zNorms.View);
        int rowsPerBlock = Math.Max(1, EpilogueHostBlock / Math.Max(1, m));
        var u = new T[(long)Math.Min(rowsPerBlock, n) * m];
        var w = weights is null ? null : new T[2 * u.Length];
        for (int i0 = 0; i0 < n; i0 += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, n - i0);
            long start = (long)i0 * m;
            var us = u.AsSpan(0, rows * m);
            HostCopy.ToHost(clock, statistics.View.SubView(start, us.Length), us);
            for (int r = 0; r < rows; r++)
            {
                var row = us.Slice(r * m, m);
                if (w is not null)
                {
                    var wr = w.AsSpan(r * 2 * m, 2 * m);
                    kernel.EvaluateRowDerivatives<T>(row, a[i0 + r], b, wr[..m], wr[m..]);
                }

                kernel.EvaluateRow<T>(row, a[i0 + r], b, row);
            }

            HostCopy.ToDevice<T>(clock, us, statistics.View.SubView(start, us.Length));
            if (w is not null)
            {
                HostCopy.ToDevice<T>(clock, w.AsSpan(0, 2 * us.Length), weights!.View.SubView(2 * start, 2 * us.Length));
            }
        }
    }

    /// <summary>How many kernel matrices had their kernel profile evaluated on the host (kernels that are classes, do not accept a <see cref="FeatureLearning.Kernels.IKernelVisitor"/>, or ILGPU cannot compile); for tests.</summary>
    internal long HostEpilogues => Interlocked.Read(ref hostEpilogues);
}

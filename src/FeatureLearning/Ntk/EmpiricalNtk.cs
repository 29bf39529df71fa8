using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Ntk;

/// <summary>
/// The empirical neural tangent kernel of a network at its current parameters, Θ_kk′(x, z) = ∂f_k(x)/∂w · ∂f_k′(z)/∂w, from
/// GEMMs layer by layer and never through the Jacobian J: with the layer inputs h_l and the back-propagated signals
/// Δ_l^k = ∂f_k/∂z_l of <see cref="FullyConnectedNetwork{T}"/>'s reverse pass,
/// Θ_kk′(X, Z) = Σ_l (Δ_l^k(X)·Δ_l^k′(Z)ᵀ) ∘ (a_l²·h_l(X)·h_l(Z)ᵀ + c_l²), where the readout's signal Gram is δ_kk′.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Per output (<see cref="EmpiricalNtkMode.PerOutput"/>) the result is c n × c m, output-major: block
/// (k, k′), rows k·n … k·n + n − 1 and columns k′·m … k′·m + m − 1, is Θ_kk′(X, Z). (J's rows are sample-major, i·c + k, so
/// J(X)·J(Z)ᵀ is this matrix with rows and columns permuted.) Traced (<see cref="EmpiricalNtkMode.Traced"/>) it is
/// Σ_k Θ_kk(X, Z), n × m.</para>
/// <para><b>Blocks.</b> X and Z are processed b samples at a time (<see cref="EmpiricalNtkOptions.BlockSize"/>): per
/// block of X one forward and one stacked reverse pass, then per block of Z its passes and the Grams of the pair. The
/// device memory is bounded by <see cref="PeakElements"/>, independent of n and m; the host overload downloads each block
/// into the host result, the device overload writes into the caller's buffer. When Z is X (the host overload with
/// <c>z</c> null or the same matrix) only the blocks on and above the diagonal are computed and the rest is mirrored.</para>
/// </remarks>
public static class EmpiricalNtk
{
    /// <summary>The empirical NTK Θ(X, Z) on the host.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network (its parameters at the time of the call).</param>
    /// <param name="x">X, n × d, finite.</param>
    /// <param name="z">Z, m × d, finite; <see langword="null"/> (or <paramref name="x"/> itself) for Θ(X, X), which then
    /// costs about half.</param>
    /// <param name="options">Mode and block size; <see langword="null"/> for <see cref="EmpiricalNtkOptions.Default"/>.</param>
    /// <param name="progress">Reported after every block.</param>
    /// <param name="cancellationToken">Checked before every block.</param>
    /// <returns>c n × c m per output (block (k, k′) is Θ_kk′), n × m traced.</returns>
    /// <exception cref="ArgumentException">Empty or non-finite inputs, inputs whose width is not the network's input
    /// dimension, invalid options, or a result beyond the largest host array (use the device overload).</exception>
    public static Matrix<T> Compute<T>(FullyConnectedNetwork<T> network, Matrix<T> x, Matrix<T>? z = null, EmpiricalNtkOptions? options = null, IProgress<EmpiricalNtkProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        options = Checked(options);
        bool symmetric = z is null || ReferenceEquals(z, x);
        CheckInputs(network, x, nameof(x));
        if (!symmetric)
        {
            CheckInputs(network, z!, nameof(z));
        }

        int n = x.RowCount, m = symmetric ? n : z!.RowCount, d = x.ColumnCount;
        int outputs = Outputs(network, options.Mode);
        long rows = (long)outputs * n, cols = (long)outputs * m;
        if (rows * cols > Array.MaxLength)
        {
            throw new ArgumentException($"The kernel would have {rows} x {cols} entries, more than a host array holds; use the overload that writes into a device buffer, or fewer inputs.", nameof(x));
        }

        var storage = new T[rows * cols]; // column-major, as MathNet's dense storage
        var xs = x.ToRowMajorArray();
        var zs = symmetric ? xs : z!.ToRowMajorArray();
        var backend = network.Backend;
        int b = options.SamplesPerBlock(network.Architecture.OutputDimension);
        using var scope = new BufferScope<T>(backend);
        var workspace = new Workspace<T>(scope, b, options.Mode, network.Architecture.OutputDimension);
        var block = scope.Allocate(outputs * b * outputs * b, 1);
        var host = new T[block.Length];
        Run(network, n, m, b, symmetric, symmetric, progress, (i0, p, s) => s.Upload(xs.AsSpan(i0 * d, p * d), p, d), (j0, q, s) => s.Upload(zs.AsSpan(j0 * d, q * d), q, d), (pair, sx, sz) =>
        {
            // The block is computed with Z's samples as rows: its row-major storage is the column-major block of the result.
            var transposed = block.RowRange(0, outputs * pair.Q * outputs * pair.P).Reshape(outputs * pair.Q, outputs * pair.P);
            Block(network, options.Mode, sz, sx, workspace, transposed, 0, 0, pair.Q, pair.P);
            backend.Download(transposed, host.AsSpan(0, transposed.Length));
            Scatter(host, storage, pair, outputs, n, m, (int)rows, symmetric && pair.J0 != pair.I0);
        }, cancellationToken);
        return Matrix<T>.Build.Dense((int)rows, (int)cols, storage);
    }

    /// <summary>The empirical NTK Θ(X, Z) into a device buffer (inputs, result and network on the same backend).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="x">X, n × d, on the network's backend; may be a view. Not checked for NaN (the host overload is).</param>
    /// <param name="z">Z, m × d; may be the same buffer as <paramref name="x"/> (the diagonal blocks then share their passes).</param>
    /// <param name="result">c n × c m per output (block (k, k′) is Θ_kk′), n × m traced; may be a view.</param>
    /// <param name="options">Mode and block size; <see langword="null"/> for <see cref="EmpiricalNtkOptions.Default"/>.</param>
    /// <param name="progress">Reported after every block.</param>
    /// <param name="cancellationToken">Checked before every block.</param>
    /// <exception cref="ArgumentException">Mis-shaped buffers (naming the argument) or invalid options.</exception>
    public static void Compute<T>(FullyConnectedNetwork<T> network, DeviceBuffer<T> x, DeviceBuffer<T> z, DeviceBuffer<T> result, EmpiricalNtkOptions? options = null, IProgress<EmpiricalNtkProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(result);
        options = Checked(options);
        int d = network.Architecture.InputDimension, outputs = Outputs(network, options.Mode);
        foreach (var (buffer, name) in new[] { (x, nameof(x)), (z, nameof(z)) })
        {
            if (buffer.Cols != d || buffer.Rows < 1)
            {
                throw new ArgumentException($"The inputs are {buffer.Rows} x {buffer.Cols} but the network needs at least one row of {d} columns.", name);
            }
        }

        if (result.Rows != outputs * x.Rows || result.Cols != outputs * z.Rows)
        {
            throw new ArgumentException($"The result is {result.Rows} x {result.Cols} but the kernel is {outputs * x.Rows} x {outputs * z.Rows}.", nameof(result));
        }

        int b = options.SamplesPerBlock(network.Architecture.OutputDimension);
        using var scope = new BufferScope<T>(network.Backend);
        var workspace = new Workspace<T>(scope, b, options.Mode, network.Architecture.OutputDimension);
        Run(network, x.Rows, z.Rows, b, false, ReferenceEquals(x, z), progress, (i0, p, _) => x.RowRange(i0, p), (j0, q, _) => z.RowRange(j0, q), (pair, sx, sz) =>
            Block(network, options.Mode, sx, sz, workspace, result, pair.I0, pair.J0, x.Rows, z.Rows), cancellationToken);
    }

    /// <summary>
    /// The largest number of device elements the host overload of <see cref="Compute{T}(FullyConnectedNetwork{T}, Matrix{T}, Matrix{T}?, EmpiricalNtkOptions?, IProgress{EmpiricalNtkProgress}?, CancellationToken)"/>
    /// holds at once when X and Z each span at least one block (fewer otherwise); the device overload holds the same less
    /// the downloaded block ((c·b)² per output, b² traced) and the two uploaded input blocks (2·b·d), plus its result. With b samples per block and c outputs:
    /// the input Gram b², the ones b, the signal Gram B² and the downloaded block B² (B = c·b per output, b traced), plus for
    /// each of the two blocks in flight
    /// b·(d + 1 + c²) + b·Σ_l fan_out(l) + (1 + [c &gt; 1]·c)·b·Σ_(l&lt;L) fan_out(l) + 2c·b·Σ_(l≥1) fan_in(l) (inputs, forward
    /// pass, tiled pre-activations, cotangents, and the reverse pass's signals and layer-input gradients).
    /// </summary>
    /// <param name="architecture">The network's architecture.</param>
    /// <param name="options">Mode and block size; <see langword="null"/> for <see cref="EmpiricalNtkOptions.Default"/>.</param>
    /// <returns>The element count (multiply by 4 or 8 for bytes).</returns>
    public static long PeakElements(NetworkArchitecture architecture, EmpiricalNtkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        options = Checked(options);
        int c = architecture.OutputDimension, last = architecture.LayerCount - 1;
        long b = options.SamplesPerBlock(c);
        long gram = options.Mode == EmpiricalNtkMode.PerOutput ? c * b : b;
        long fanOut = 0, hiddenFanOut = 0, upperFanIn = 0;
        for (int l = 0; l <= last; l++)
        {
            fanOut += architecture.FanOut(l);
            hiddenFanOut += l < last ? architecture.FanOut(l) : 0;
            upperFanIn += l > 0 ? architecture.FanIn(l) : 0;
        }

        long tiled = last > 0 && c > 1 ? c : 0;
        long cotangent = last > 0 ? (long)c * c : 0;
        long side = (b * (architecture.InputDimension + 1 + cotangent)) + (b * fanOut) + ((1 + tiled) * b * hiddenFanOut) + (2L * c * b * upperFanIn);
        return (b * b) + b + (2 * gram * gram) + (2 * side);
    }

    /// <summary>
    /// The floating-point operations of the GEMMs the host overload runs for Θ(X, Z) with n and m samples (Z = X when
    /// <paramref name="symmetric"/>): the forward and reverse passes of every block and the Grams of every block pair.
    /// </summary>
    internal static double GemmFlops(NetworkArchitecture architecture, int n, int m, bool symmetric, EmpiricalNtkOptions options)
    {
        var layers = LayerLayout.Of(architecture);
        int c = architecture.OutputDimension, last = layers.Length - 1;
        double Bias(LayerLayout layer) => layer.BiasScale != 0 ? 1 : 0;
        double PassFlops(int rows)
        {
            double f = 0;
            foreach (var layer in layers)
            {
                f += 2.0 * rows * layer.FanOut * (layer.FanIn + Bias(layer)); // forward, with the rank-1 bias update
            }

            for (int l = 1; l <= last; l++)
            {
                f += 2.0 * c * rows * layers[l].FanOut * layers[l].FanIn; // the stacked reverse pass
            }

            return f;
        }

        double flops = 0;
        foreach (var pair in Pairs(n, m, options.SamplesPerBlock(c), symmetric, symmetric))
        {
            flops += pair.J0 == (symmetric ? pair.I0 : 0) ? PassFlops(pair.P) : 0;
            flops += pair.NewZ ? PassFlops(pair.Q) : 0;
            for (int l = 0; l <= last; l++)
            {
                flops += 2.0 * pair.P * pair.Q * (layers[l].FanIn + Bias(layers[l]));
                if (l < last)
                {
                    double outputs = options.Mode == EmpiricalNtkMode.PerOutput ? (double)c * c : c;
                    flops += 2.0 * outputs * pair.P * pair.Q * layers[l].FanOut;
                }
            }
        }

        return flops;
    }

    /// <summary>
    /// One block pair into <paramref name="result"/>: rows <paramref name="rowOffset"/> + k·<paramref name="rowStride"/> … and
    /// columns <paramref name="colOffset"/> + k′·<paramref name="colStride"/> … hold Θ_kk′ of the samples of
    /// <paramref name="rows"/> against those of <paramref name="cols"/> (one block, k = k′ = 0, traced).
    /// </summary>
    private static void Block<T>(FullyConnectedNetwork<T> network, EmpiricalNtkMode mode, NetworkSignals<T> rows, NetworkSignals<T> cols, Workspace<T> workspace, DeviceBuffer<T> result, int rowOffset, int colOffset, int rowStride, int colStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var backend = network.Backend;
        var layers = network.Layers;
        int p = rows.Inputs[0].Rows, q = cols.Inputs[0].Rows, c = network.Architecture.OutputDimension, last = layers.Count - 1;
        bool perOutput = mode == EmpiricalNtkMode.PerOutput;
        int outputs = perOutput ? c : 1;
        DeviceBuffer<T> Target(int k, int kk) => result.Slice(rowOffset + (k * rowStride), p, colOffset + (kk * colStride), q);

        // The c × c targets are one contiguous block when the strides are the block's own sizes.
        DeviceBuffer<T>? whole = rowStride == p && colStride == q ? result.Slice(rowOffset, outputs * p, colOffset, outputs * q) : null;
        for (int k = 0; k < outputs; k++)
        {
            for (int kk = 0; kk < outputs; kk++)
            {
                backend.Scale(T.Zero, Target(k, kk));
            }
        }

        var inputGram = workspace.Gram(workspace.InputGram, p, q);
        for (int l = 0; l <= last; l++)
        {
            // a_l²·h_l(X)·h_l(Z)ᵀ + c_l²·1·1ᵀ.
            var layer = layers[l];
            backend.Gemm(Transpose.None, Transpose.Transpose, T.CreateTruncating(layer.WeightScale * layer.WeightScale), rows.Inputs[l], cols.Inputs[l], T.Zero, inputGram);
            if (layer.BiasScale != 0)
            {
                backend.Gemm(Transpose.None, Transpose.None, T.CreateTruncating(layer.BiasScale * layer.BiasScale), workspace.Ones.RowRange(0, p), workspace.Ones.RowRange(0, q).Reshape(1, q), T.One, inputGram);
            }

            if (l == last)
            {
                // The readout's signals are e_k: their Gram is δ_kk′ (and c on the trace).
                for (int k = 0; k < outputs; k++)
                {
                    backend.Axpy(perOutput ? T.One : T.CreateTruncating(c), inputGram, Target(k, k));
                }

                break;
            }

            DeviceBuffer<T> signalGram;
            if (perOutput)
            {
                signalGram = workspace.Gram(workspace.SignalGram, c * p, c * q);
                backend.Gemm(Transpose.None, Transpose.Transpose, T.One, rows.Deltas[l], cols.Deltas[l], T.Zero, signalGram);
                for (int k = 0; k < c; k++)
                {
                    for (int kk = 0; kk < c; kk++)
                    {
                        var view = signalGram.Slice(k * p, p, kk * q, q);
                        backend.Hadamard(view, inputGram, view);
                        if (whole is null)
                        {
                            backend.Axpy(T.One, view, Target(k, kk));
                        }
                    }
                }
            }
            else
            {
                signalGram = workspace.Gram(workspace.SignalGram, p, q);
                for (int k = 0; k < c; k++)
                {
                    backend.Gemm(Transpose.None, Transpose.Transpose, T.One, rows.Deltas[l].RowRange(k * p, p), cols.Deltas[l].RowRange(k * q, q), k == 0 ? T.Zero : T.One, signalGram);
                }

                backend.Hadamard(signalGram, inputGram, signalGram);
            }

            if (whole is not null || !perOutput)
            {
                backend.Axpy(T.One, signalGram, whole ?? Target(0, 0));
            }
        }
    }

    /// <summary>
    /// The block loop shared by both overloads: per block of X its signals, per block of Z (from the diagonal on when
    /// <paramref name="upperOnly"/>) its signals, reused from X's on the diagonal when <paramref name="sameInputs"/>, and the pair.
    /// </summary>
    private static void Run<T>(FullyConnectedNetwork<T> network, int n, int m, int b, bool upperOnly, bool sameInputs, IProgress<EmpiricalNtkProgress>? progress,
        Func<int, int, BufferScope<T>, DeviceBuffer<T>> xBlock, Func<int, int, BufferScope<T>, DeviceBuffer<T>> zBlock, Action<BlockPair, NetworkSignals<T>, NetworkSignals<T>> pairAction, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pairs = Pairs(n, m, b, upperOnly, sameInputs).ToList();
        BufferScope<T>? xScope = null;
        NetworkSignals<T>? sx = null;
        try
        {
            for (int i = 0; i < pairs.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var pair = pairs[i];
                if (i == 0 || pairs[i - 1].I0 != pair.I0)
                {
                    xScope?.Dispose();
                    xScope = new BufferScope<T>(network.Backend);
                    sx = network.Signals(xBlock(pair.I0, pair.P, xScope), xScope);
                }

                using var zScope = new BufferScope<T>(network.Backend);
                var sz = pair.NewZ ? network.Signals(zBlock(pair.J0, pair.Q, zScope), zScope) : sx!;
                pairAction(pair, sx!, sz);
                progress?.Report(new EmpiricalNtkProgress(i + 1, pairs.Count));
            }
        }
        finally
        {
            xScope?.Dispose();
        }
    }

    /// <summary>The block pairs in order (X's blocks outer, Z's from the diagonal on when <paramref name="upperOnly"/>); NewZ is false on the diagonal when Z is X.</summary>
    private static IEnumerable<BlockPair> Pairs(int n, int m, int b, bool upperOnly, bool sameInputs)
    {
        for (int i0 = 0; i0 < n; i0 += b)
        {
            for (int j0 = upperOnly ? i0 : 0; j0 < m; j0 += b)
            {
                yield return new BlockPair(i0, Math.Min(b, n - i0), j0, Math.Min(b, m - j0), !sameInputs || j0 != i0);
            }
        }
    }

    /// <summary>
    /// Copies the downloaded block (row-major, Z's samples as rows: element (k′q + j, kp + i) = Θ_kk′(xᵢ, z_j)) into the
    /// column-major result with <paramref name="rows"/> rows, and its mirror image when <paramref name="mirror"/>.
    /// </summary>
    private static void Scatter<T>(T[] block, T[] storage, BlockPair pair, int outputs, int n, int m, int rows, bool mirror)
    {
        int p = pair.P, q = pair.Q, width = outputs * p;
        for (int kk = 0; kk < outputs; kk++)
        {
            for (int j = 0; j < q; j++)
            {
                long column = (long)((kk * m) + pair.J0 + j) * rows;
                for (int k = 0; k < outputs; k++)
                {
                    block.AsSpan((((kk * q) + j) * width) + (k * p), p).CopyTo(storage.AsSpan((int)(column + (k * n) + pair.I0), p));
                }
            }
        }

        if (!mirror)
        {
            return;
        }

        // Θ_k′k(z_j, xᵢ) = Θ_kk′(xᵢ, z_j): column (k·n + I0 + i), rows k′·n + J0 + j (here n = m).
        for (int k = 0; k < outputs; k++)
        {
            for (int i = 0; i < p; i++)
            {
                long column = (long)((k * n) + pair.I0 + i) * rows;
                for (int kk = 0; kk < outputs; kk++)
                {
                    long at = column + (kk * n) + pair.J0;
                    for (int j = 0; j < q; j++)
                    {
                        storage[at + j] = block[(((kk * q) + j) * width) + (k * p) + i];
                    }
                }
            }
        }
    }

    private static EmpiricalNtkOptions Checked(EmpiricalNtkOptions? options)
    {
        options ??= EmpiricalNtkOptions.Default;
        options.Validate();
        return options;
    }

    private static int Outputs<T>(FullyConnectedNetwork<T> network, EmpiricalNtkMode mode)
        where T : unmanaged, IFloatingPointIeee754<T> => mode == EmpiricalNtkMode.PerOutput ? network.Architecture.OutputDimension : 1;

    private static void CheckInputs<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validation.NonEmptyFinite(inputs, name);
        if (inputs.ColumnCount != network.Architecture.InputDimension)
        {
            throw new ArgumentException($"The inputs have {inputs.ColumnCount} columns but the network's input dimension is {network.Architecture.InputDimension}.", name);
        }
    }

    /// <summary>Samples I0 … I0 + P − 1 of X against J0 … J0 + Q − 1 of Z; NewZ when Z's block needs its own passes.</summary>
    private readonly record struct BlockPair(int I0, int P, int J0, int Q, bool NewZ);

    /// <summary>The scratch of the block loop: the input Gram, the signal Gram and a column of ones, allocated once.</summary>
    private sealed class Workspace<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Workspace(BufferScope<T> scope, int b, EmpiricalNtkMode mode, int c)
        {
            InputGram = scope.Allocate(b * b, 1);
            int signal = mode == EmpiricalNtkMode.PerOutput ? c * b : b;
            SignalGram = scope.Allocate(signal * signal, 1);
            Ones = scope.Ones(b, 1);
        }

        public DeviceBuffer<T> InputGram { get; }

        public DeviceBuffer<T> SignalGram { get; }

        public DeviceBuffer<T> Ones { get; }

        /// <summary>The first rows × cols entries of a flat scratch buffer as a contiguous matrix.</summary>
        public DeviceBuffer<T> Gram(DeviceBuffer<T> flat, int rows, int cols) => flat.RowRange(0, rows * cols).Reshape(rows, cols);
    }
}

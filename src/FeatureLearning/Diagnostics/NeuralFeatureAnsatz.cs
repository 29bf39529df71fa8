using System.Numerics;
using FeatureLearning.Compute;
using FeatureLearning.Networks;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;
using Vec = MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Diagnostics;

/// <summary>
/// The neural feature ansatz (NFA; Radhakrishnan et al., "Mechanism for feature learning in neural networks and
/// backpropagation-free machine learning models", Science 2024): the Gram matrix WᵀW of a trained layer's weights is
/// close to a power of the average gradient outer product (AGOP) of the network with respect to that layer's input. This
/// class computes the layer AGOPs from exact input gradients, the neural feature matrices, the NFA correlation and the
/// cosine alignment of AGOPs, for networks and for fitted RFMs.
/// </summary>
/// <remarks>
/// <para><b>AGOP normalisation.</b> For gradients g_ik = ∂f_k(xᵢ)/∂h (sample i = 1 … n, output k = 1 … c) the AGOP is
/// G = (1/n) Σᵢ Σ_k g_ik g_ikᵀ: a mean over the samples and a sum over the outputs (the normalisation of
/// <see cref="Rfm.Agop.Compute{T}"/>). The centred AGOP subtracts each output's mean gradient ḡ_k = (1/n) Σᵢ g_ik:
/// G_c = (1/n) Σᵢ Σ_k (g_ik − ḡ_k)(g_ik − ḡ_k)ᵀ = G − Σ_k ḡ_k ḡ_kᵀ.</para>
/// <para><b>NFA correlation.</b> ρ(A, B) is the Pearson correlation of the d² entries of A and B taken as two samples
/// (the measure of the NFA papers); it is invariant to positive scalings of either matrix, so the layer's weight scale
/// a_l (<see cref="NetworkArchitecture"/>) does not matter. It is undefined when either matrix has all its entries equal
/// (a zero AGOP, for example): then <see cref="PearsonCorrelation"/> throws. The paper states the ansatz as
/// WᵀW ∝ AGOP (s = 1); the default here compares with AGOP^{1/2} (s = ½), and s is an option.</para>
/// </remarks>
public static class NeuralFeatureAnsatz
{
    /// <summary>
    /// The AGOP of <paramref name="network"/> with respect to the input h_l of layer <paramref name="layer"/> (h₀ = x) over the
    /// samples <paramref name="inputs"/>: G = (1/n) Σᵢ Σ_k ∇f_k ∇f_kᵀ, centred or not (see the class remarks), from the exact
    /// gradients of <see cref="FullyConnectedNetwork{T}.LayerInputGradients"/>, accumulated in double precision.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="inputs">X, n × d.</param>
    /// <param name="layer">0 … L (L + 1 = <see cref="NetworkArchitecture.LayerCount"/>).</param>
    /// <param name="centre">Whether to subtract each output's mean gradient.</param>
    /// <param name="batchSize">Samples per reverse pass (≥ 1); <see langword="null"/> for all at once.</param>
    /// <param name="progress">Receives the number of samples done after every batch.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>G, fan_in(l) × fan_in(l), symmetric positive semi-definite.</returns>
    /// <exception cref="ArgumentException">Empty, non-finite or mis-shaped inputs, a bad layer or batch size.</exception>
    public static Matrix<double> LayerAgop<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, int layer, bool centre = false, int? batchSize = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Validation.NonEmptyFinite(inputs, nameof(inputs));
        if (layer < 0 || layer >= network.Architecture.LayerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The layer must be between 0 and {network.Architecture.LayerCount - 1}.");
        }

        if (batchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1 (or null for all samples at once).");
        }

        int n = inputs.RowCount, b = batchSize ?? n;
        var accumulator = new AgopAccumulator(network.Architecture.FanIn(layer), network.Architecture.OutputDimension);
        for (int start = 0; start < n; start += b)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(b, n - start);
            var batch = count == n ? inputs : inputs.SubMatrix(start, count, 0, inputs.ColumnCount);
            var gradients = network.LayerInputGradients(batch, layer);
            for (int k = 0; k < gradients.Count; k++)
            {
                accumulator.Add(k, gradients[k].Map(double.CreateTruncating));
            }

            progress?.Report(start + count);
        }

        return accumulator.Result(centre);
    }

    /// <summary>
    /// The AGOP of given gradients: G = (1/n) Σᵢ Σ_k g_ik g_ikᵀ, centred or not (see the class remarks). For the AGOP of a
    /// function known in closed form (a planted target) or of gradients computed elsewhere.
    /// </summary>
    /// <param name="gradients">One n × d matrix per output k, whose row i is g_ik (every matrix the same shape, finite).</param>
    /// <param name="centre">Whether to subtract each output's mean gradient.</param>
    /// <returns>G, d × d.</returns>
    /// <exception cref="ArgumentException">No matrices, or matrices that are empty, not finite or of different shapes.</exception>
    public static Matrix<double> Agop(IReadOnlyList<Matrix<double>> gradients, bool centre = false)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Count == 0)
        {
            throw new ArgumentException("At least one output's gradients are needed.", nameof(gradients));
        }

        var accumulator = new AgopAccumulator(gradients[0]?.ColumnCount ?? 0, gradients.Count);
        for (int k = 0; k < gradients.Count; k++)
        {
            Validation.NonEmptyFinite(gradients[k], nameof(gradients));
            if (gradients[k].RowCount != gradients[0].RowCount || gradients[k].ColumnCount != gradients[0].ColumnCount)
            {
                throw new ArgumentException($"Output {k}'s gradients are {gradients[k].RowCount} x {gradients[k].ColumnCount} but output 0's are {gradients[0].RowCount} x {gradients[0].ColumnCount}.", nameof(gradients));
            }

            accumulator.Add(k, gradients[k]);
        }

        return accumulator.Result(centre);
    }

    /// <summary>
    /// The neural feature matrix of layer <paramref name="layer"/>: WᵀW (fan_in × fan_in) for the stored weights W_l
    /// (fan_out × fan_in, without the forward-pass scale a_l), or (W − W₀)ᵀ(W − W₀) when the initial parameters are given.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The (trained) network.</param>
    /// <param name="layer">0 … L.</param>
    /// <param name="initialParameters">The P parameters W₀ to remove (those of the network trained from, <see cref="FullyConnectedNetwork{T}.GetParameters"/>); <see langword="null"/> for WᵀW.</param>
    /// <returns>The Gram matrix.</returns>
    /// <exception cref="ArgumentException">A bad layer, or initial parameters of the wrong length or not finite.</exception>
    public static Matrix<double> NeuralFeatureMatrix<T>(FullyConnectedNetwork<T> network, int layer, Vec.Vector<T>? initialParameters = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var layouts = LayerLayout.Of(network.Architecture);
        if (layer < 0 || layer >= layouts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The layer must be between 0 and {layouts.Length - 1}.");
        }

        var w = WeightMatrix(network.GetParameters(), layouts[layer]);
        if (initialParameters is not null)
        {
            var initial = FullyConnectedNetwork<T>.CheckParameterVector(initialParameters, network.ParameterCount, nameof(initialParameters));
            w -= WeightMatrix(Vec.Vector<T>.Build.DenseOfArray(initial), layouts[layer]);
        }

        return w.TransposeThisAndMultiply(w);
    }

    /// <summary>
    /// A power A^s of a symmetric positive semi-definite matrix through its symmetric eigendecomposition,
    /// V diag(max(λ, 0)^s) Vᵀ: eigenvalues below 0 (rounding) are taken as 0. The input is symmetrised first, (A + Aᵀ)/2.
    /// </summary>
    /// <param name="matrix">A, square, finite.</param>
    /// <param name="power">s (positive, finite); ½ for the square root.</param>
    /// <returns>A^s.</returns>
    /// <exception cref="ArgumentException">A matrix that is not square or not finite, or a bad power.</exception>
    public static Matrix<double> SymmetricPower(Matrix<double> matrix, double power)
    {
        Validation.NonEmptyFinite(matrix, nameof(matrix));
        Validation.PositiveFinite(power, nameof(power), "power");
        int d = matrix.RowCount;
        if (matrix.ColumnCount != d)
        {
            throw new ArgumentException($"The matrix must be square, but is {d} x {matrix.ColumnCount}.", nameof(matrix));
        }

        var symmetric = (matrix + matrix.Transpose()) * 0.5;
        var result = MetricUpdate.MatrixPower(ComputeBackends.Default, symmetric.ToRowMajorArray(), d, power);
        return Matrix<double>.Build.DenseOfRowMajor(d, d, result);
    }

    /// <summary>
    /// The Pearson correlation of the entries of two matrices of the same shape, each flattened to one sample:
    /// Σ (aᵢ − ā)(bᵢ − b̄) / √(Σ (aᵢ − ā)² Σ (bᵢ − b̄)²).
    /// </summary>
    /// <param name="a">A.</param>
    /// <param name="b">B, same shape.</param>
    /// <returns>ρ in [−1, 1].</returns>
    /// <exception cref="ArgumentException">Shapes differ, an entry is not finite, or a matrix has all its entries equal (ρ undefined; the argument named).</exception>
    public static double PearsonCorrelation(Matrix<double> a, Matrix<double> b)
    {
        Validation.NonEmptyFinite(a, nameof(a));
        Validation.NonEmptyFinite(b, nameof(b));
        if (a.RowCount != b.RowCount || a.ColumnCount != b.ColumnCount)
        {
            throw new ArgumentException($"Shapes differ: {a.RowCount} x {a.ColumnCount} and {b.RowCount} x {b.ColumnCount}.", nameof(b));
        }

        // ρ is invariant to positive scalings: divide each matrix by its largest |entry| so that the sums of squares neither
        // overflow (entries near 1e200) nor underflow (near 1e-200).
        var x = Scaled(a.ToColumnMajorArray());
        var y = Scaled(b.ToColumnMajorArray());
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        if (sxx == 0)
        {
            throw new ArgumentException("All entries of the matrix are equal: the correlation is undefined.", nameof(a));
        }

        if (syy == 0)
        {
            throw new ArgumentException("All entries of the matrix are equal: the correlation is undefined.", nameof(b));
        }

        double rho = sxy / (Math.Sqrt(sxx) * Math.Sqrt(syy)); // not √(sxx·syy), which can overflow or underflow
        if (!double.IsFinite(rho))
        {
            throw new ArgumentException($"The correlation is not finite ({rho}): the entries are out of double precision's range.", nameof(a));
        }

        return Math.Clamp(rho, -1, 1);
    }

    private static double[] Scaled(double[] v)
    {
        double max = v.Max(Math.Abs);
        return max == 0 ? v : Array.ConvertAll(v, e => e / max);
    }

    /// <summary>The NFA correlation ρ(F, G^s): the Pearson correlation of a feature matrix F with a power of an AGOP G.</summary>
    /// <param name="featureMatrix">F (WᵀW, or an RFM's M), d × d.</param>
    /// <param name="agop">G, d × d, symmetric positive semi-definite.</param>
    /// <param name="power">s (positive, finite). Default ½.</param>
    /// <returns>ρ in [−1, 1].</returns>
    /// <exception cref="ArgumentException">See <see cref="SymmetricPower"/> and <see cref="PearsonCorrelation"/>.</exception>
    public static double Correlation(Matrix<double> featureMatrix, Matrix<double> agop, double power = 0.5) =>
        PearsonCorrelation(featureMatrix, SymmetricPower(agop, power));

    /// <summary>
    /// The cosine alignment of an AGOP with a target AGOP, ⟨A, B⟩_F / (‖A‖_F‖B‖_F) (the measure of
    /// <see cref="GrokkingMeasures.Alignment"/>): symmetric, 1 for positive multiples, 0 when either matrix is zero.
    /// </summary>
    /// <param name="agop">A.</param>
    /// <param name="target">B, same shape.</param>
    /// <returns>The alignment in [−1, 1] (in [0, 1] for positive semi-definite matrices).</returns>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static double Alignment(Matrix<double> agop, Matrix<double> target) => GrokkingMeasures.Alignment(agop, target);

    /// <summary>
    /// The NFA at one layer: the neural feature matrix (<see cref="NeuralFeatureMatrix{T}"/>), the layer AGOP
    /// (<see cref="LayerAgop{T}"/>), its power and their correlation.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="inputs">X, n × d, where the AGOP is evaluated.</param>
    /// <param name="layer">0 … L.</param>
    /// <param name="options">Centring, power and batch size; <see langword="null"/> for the defaults.</param>
    /// <param name="initialParameters">W₀ to remove from the weights ((W − W₀)ᵀ(W − W₀)); <see langword="null"/> for WᵀW.</param>
    /// <param name="progress">Receives the number of samples done after every batch of the AGOP.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="ArgumentException">Bad inputs or options, or a correlation that is undefined (a zero AGOP or feature matrix).</exception>
    public static NfaLayerMeasurement Measure<T>(FullyConnectedNetwork<T> network, Matrix<T> inputs, int layer, NfaOptions? options = null, Vec.Vector<T>? initialParameters = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new NfaOptions();
        options.Validate();
        var feature = NeuralFeatureMatrix(network, layer, initialParameters);
        var agop = LayerAgop(network, inputs, layer, options.CentreGradients, options.BatchSize, progress, cancellationToken);
        var powered = SymmetricPower(agop, options.Power);
        return new NfaLayerMeasurement(layer, feature, agop, powered, options.Power, PearsonCorrelation(feature, powered));
    }

    /// <summary>
    /// The NFA for a fitted RFM: its feature matrix M (the metric of the final predictor) against the AGOP G of that predictor
    /// (<see cref="Rfm.Agop.Compute{T}"/>), by the correlation ρ(M, G^s) and the alignment of M with G^s.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="model">The fitted RFM.</param>
    /// <param name="points">Where to evaluate the gradients (m × d); <see langword="null"/> for the training inputs.</param>
    /// <param name="options">Centring, power and batch size (the AGOP's block size); <see langword="null"/> for the defaults.</param>
    /// <param name="backend">The backend of the AGOP; <see langword="null"/> for <see cref="ComputeBackends.Default"/>.</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentException">Bad points or options, or a correlation that is undefined.</exception>
    public static RfmAgopComparison CompareRfm<T>(RfmModel<T> model, Matrix<T>? points = null, NfaOptions? options = null, IComputeBackend? backend = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new NfaOptions();
        options.Validate();
        var m = model.FeatureMatrix;
        var agop = Rfm.Agop.Compute(model.Predictor, points, options.CentreGradients, AgopForm.Auto, backend, options.BatchSize);
        var powered = SymmetricPower(agop, options.Power);
        return new RfmAgopComparison(m, agop, powered, options.Power, PearsonCorrelation(m, powered), Alignment(m, powered));
    }

    private static Matrix<double> WeightMatrix<T>(Vec.Vector<T> parameters, LayerLayout layout)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Matrix<double>.Build.Dense(layout.FanOut, layout.FanIn);
        for (int o = 0; o < layout.FanOut; o++)
        {
            for (int i = 0; i < layout.FanIn; i++)
            {
                w[o, i] = double.CreateTruncating(parameters[layout.WeightOffset + (o * layout.FanIn) + i]);
            }
        }

        return w;
    }

    /// <summary>Σᵢ g_ik g_ikᵀ summed over the outputs and Σᵢ g_ik per output, over batches of samples.</summary>
    private sealed class AgopAccumulator(int dimension, int outputs)
    {
        private readonly Matrix<double> outer = Matrix<double>.Build.Dense(dimension, dimension);
        private readonly Vec.Vector<double>[] sums = Enumerable.Range(0, outputs).Select(_ => Vec.Vector<double>.Build.Dense(dimension)).ToArray();
        private int samples;

        public void Add(int output, Matrix<double> gradients)
        {
            outer.Add(gradients.TransposeThisAndMultiply(gradients), outer);
            sums[output].Add(gradients.ColumnSums(), sums[output]);
            if (output == 0)
            {
                samples += gradients.RowCount;
            }
        }

        public Matrix<double> Result(bool centre)
        {
            var g = outer / samples;
            if (centre)
            {
                foreach (var sum in sums)
                {
                    var mean = sum / samples;
                    g -= mean.OuterProduct(mean);
                }
            }

            return (g + g.Transpose()) * 0.5;
        }
    }
}

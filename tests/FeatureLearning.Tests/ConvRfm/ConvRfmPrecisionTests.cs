using FeatureLearning.Compute;
using FeatureLearning.ConvRfm;
using FeatureLearning.Kernels;
using FeatureLearning.Rfm;
using FeatureLearning.Tests.Conformance;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;
using static FeatureLearning.Tests.TestMatrices;

namespace FeatureLearning.Tests.ConvRfm;

/// <summary>ConvRFM and deep ConvRFM in single precision: agreement with double, and Save/Load in both precisions.</summary>
public sealed class ConvRfmPrecisionTests(ITestOutputHelper output)
{
    /// <summary>The relative gap ‖single − double‖ / ‖double‖ allowed between the two precisions on these small problems.</summary>
    private const double Tolerance = 1e-3;

    private static readonly ManagedBackend Backend = new();

    private static ImageBatch Images(int n, int size, int seed) => new(n, 1, size, size, Random(1, n * size * size, seed));

    private static Matrix<double> Targets(ImageBatch x) =>
        Matrix<double>.Build.Dense(x.Count, 2, (i, k) => Math.Tanh(x[i, 0, 1 + k, 2] - x[i, 0, 3, 3]));

    private static double Gap(Matrix<float> single, Matrix<double> reference) =>
        (single.Map(v => (double)v) - reference).FrobeniusNorm() / reference.FrobeniusNorm();

    [Theory]
    [InlineData(PatchPairing.Aligned, "laplace", 1L << 24, 0)]
    [InlineData(PatchPairing.AllPairs, "laplace", 1L << 24, 0)]
    [InlineData(PatchPairing.AllPairs, "gaussian", 1L << 24, 0)]
    [InlineData(PatchPairing.AllPairs, "polynomial", 1L << 24, 0)]
    [InlineData(PatchPairing.AllPairs, "gaussian", 400, 6)] // blocked kernel rows and a blocked, sampled AGOP
    public void SingleAgreesWithDouble(PatchPairing pairing, string kernelName, long blockElements, int agopSample)
    {
        var x = Images(14, 6, 41);
        var test = Images(5, 6, 42);
        var y = Targets(x);
        IKernelFunction kernel = kernelName switch
        {
            "laplace" => new LaplaceKernel(3),
            "gaussian" => new GaussianKernel(3),
            _ => new PolynomialKernel(2, 1),
        };
        var options = new ConvRfmOptions
        {
            Kernel = kernel, Pairing = pairing, Rounds = 3, Ridge = 1e-2, MaxBlockElements = blockElements,
            AgopSampleSize = agopSample > 0 ? agopSample : null, SelectBy = SelectionMetric.Last, Backend = Backend,
        };
        var estimator = new ConvolutionalRfm(options);
        var validation = Images(6, 6, 43);
        var d = estimator.Fit(x, y, (validation, Targets(validation)));
        var s = estimator.Fit(x, y.Map(v => (float)v), (validation, Targets(validation).Map(v => (float)v)));

        double prediction = Gap(s.Predict(test), d.Predict(test));
        double metric = (s.FeatureMatrix - d.FeatureMatrix).FrobeniusNorm() / d.FeatureMatrix.FrobeniusNorm();
        output.WriteLine($"{pairing} {kernelName} block {blockElements} sample {agopSample}: predictions {prediction:E2}, feature matrix {metric:E2}");
        prediction.Should().BeLessThan(Tolerance);
        metric.Should().BeLessThan(Tolerance);
        s.SelectedIteration.Should().Be(d.SelectedIteration);
        s.History.Select(h => h.ValidationMse).Zip(d.History.Select(h => h.ValidationMse), (a, b) => Math.Abs(a - b) / b).Should().OnlyContain(r => r < Tolerance);
    }

    [Fact]
    public void DeepSingleAgreesWithDouble()
    {
        var x = Images(12, 6, 44);
        var test = Images(5, 6, 45);
        var y = Targets(x);
        var estimator = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Rounds = 2, Ridge = 1e-2, Backend = Backend }, new ConvRfmOptions { Rounds = 2, PatchSize = 2, Padding = 0, Ridge = 1e-2, Backend = Backend }],
            Filters = 4,
            Seed = 6,
        });
        var d = estimator.Fit(x, y);
        var s = estimator.Fit(x, y.Map(v => (float)v));

        double prediction = Gap(s.Predict(test), d.Predict(test));
        double filters = Gap(s.Filters(0), d.Filters(0));
        output.WriteLine($"deep: predictions {prediction:E2}, layer-0 filters {filters:E2}");
        prediction.Should().BeLessThan(Tolerance);
        filters.Should().BeLessThan(Tolerance);
        s.FeatureMatrices.Zip(d.FeatureMatrices, (a, b) => (a - b).FrobeniusNorm() / b.FrobeniusNorm()).Should().OnlyContain(r => r < Tolerance);
    }

    [Fact]
    public void ModelsRoundTripInTheirPrecisionAndAreRefusedInTheOther()
    {
        var x = Images(14, 6, 46);
        var y = Matrix<double>.Build.Dense(14, 2, (i, k) => x[i, 0, 2 + k, 2] - x[i, 0, 3, 3]);
        var single = RoundTrip(x, y.Map(v => (float)v));
        var @double = RoundTrip(x, y);
        (single.Conv[10], single.Deep[10], @double.Conv[10], @double.Deep[10]).Should().Be(((byte)32, (byte)32, (byte)64, (byte)64), "the header's precision byte");

        ((Action)(() => ConvRfmModel<double>.Load(new MemoryStream(single.Conv), Backend))).Should().Throw<InvalidDataException>()
            .WithMessage("The model was saved in single precision; load it with that element type.");
        ((Action)(() => ConvRfmModel<float>.Load(new MemoryStream(@double.Conv), Backend))).Should().Throw<InvalidDataException>()
            .WithMessage("The model was saved in double precision; load it with that element type.");
        ((Action)(() => DeepConvRfmModel<double>.Load(new MemoryStream(single.Deep), Backend))).Should().Throw<InvalidDataException>();
        ((Action)(() => DeepConvRfmModel<float>.Load(new MemoryStream(@double.Deep), Backend))).Should().Throw<InvalidDataException>();
    }

    /// <summary>Fits a ConvRFM and a deep ConvRFM in T, checks that Load gives back the same model, and returns the files.</summary>
    private static (byte[] Conv, byte[] Deep) RoundTrip<T>(ImageBatch x, Matrix<T> y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var conv = new ConvolutionalRfm(new ConvRfmOptions { Rounds = 2, Backend = Backend }).Fit(x, y);
        var bytes = Problems.Bytes(conv.Save);
        var loaded = ConvRfmModel<T>.Load(new MemoryStream(bytes), Backend);
        loaded.Predict(x).Should().Be(conv.Predict(x));
        loaded.Coefficients.Should().Be(conv.Coefficients);
        loaded.FeatureMatrix.Should().Be(conv.FeatureMatrix);
        loaded.History.Should().Equal(conv.History);
        Problems.Bytes(loaded.Save).Should().Equal(bytes);

        var deep = new DeepConvRfm(new DeepConvRfmOptions
        {
            Layers = [new ConvRfmOptions { Rounds = 2, Backend = Backend }, new ConvRfmOptions { Rounds = 1, Backend = Backend }],
            Filters = 4,
            Seed = 3,
        }).Fit(x, y);
        var deepBytes = Problems.Bytes(deep.Save);
        var deepLoaded = DeepConvRfmModel<T>.Load(new MemoryStream(deepBytes), Backend);
        deepLoaded.Predict(x).Should().Be(deep.Predict(x));
        deepLoaded.Filters(0).Should().Be(deep.Filters(0));
        deepLoaded.History.Should().Equal(deep.History);
        Problems.Bytes(deepLoaded.Save).Should().Equal(deepBytes);
        ((Action)(() => ConvRfmModel<T>.Load(new MemoryStream(deepBytes), Backend))).Should().Throw<InvalidDataException>();
        return (bytes, deepBytes);
    }
}

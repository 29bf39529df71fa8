namespace FeatureLearning.Backends.Ilgpu.Device;

/// <summary>
/// Arithmetic on the element type, as a struct functor: device kernels are generic over <c>(T, TOps)</c>, and ILGPU
/// specializes each instantiation, so one kernel source serves float and double without generic math interfaces.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
internal interface IScalarOps<T>
    where T : unmanaged
{
    T Zero { get; }

    T Add(T a, T b);

    T Sub(T a, T b);

    T Mul(T a, T b);

    T Div(T a, T b);

    T Sqrt(T a);

    T FromDouble(double value);

    double ToDouble(T value);

    /// <summary>a &gt; b (false when either is NaN).</summary>
    bool Greater(T a, T b);
}

/// <summary>Single-precision arithmetic.</summary>
internal readonly struct SingleOps : IScalarOps<float>
{
    public float Zero => 0f;

    public float Add(float a, float b) => a + b;

    public float Sub(float a, float b) => a - b;

    public float Mul(float a, float b) => a * b;

    public float Div(float a, float b) => a / b;

    public float Sqrt(float a) => MathF.Sqrt(a);

    public float FromDouble(double value) => (float)value;

    public double ToDouble(float value) => value;

    public bool Greater(float a, float b) => a > b;
}

/// <summary>Double-precision arithmetic.</summary>
internal readonly struct DoubleOps : IScalarOps<double>
{
    public double Zero => 0.0;

    public double Add(double a, double b) => a + b;

    public double Sub(double a, double b) => a - b;

    public double Mul(double a, double b) => a * b;

    public double Div(double a, double b) => a / b;

    public double Sqrt(double a) => Math.Sqrt(a);

    public double FromDouble(double value) => value;

    public double ToDouble(double value) => value;

    public bool Greater(double a, double b) => a > b;
}

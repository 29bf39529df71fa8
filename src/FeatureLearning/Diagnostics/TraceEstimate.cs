namespace FeatureLearning.Diagnostics;

/// <summary>A stochastic trace estimate.</summary>
/// <param name="Value">The estimate of tr(A).</param>
/// <param name="StandardError">Its standard error (the sample standard deviation of the probe terms over √probes; for
/// Hutch++ that of the residual part, the sketched part being exact).</param>
/// <param name="Products">Operator applications used (matrix–vector products).</param>
public readonly record struct TraceEstimate(double Value, double StandardError, int Products);

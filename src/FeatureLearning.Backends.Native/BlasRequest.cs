namespace FeatureLearning.Backends.Native;

/// <summary>The libraries to try in order, and where the choice came from (a null source: the default probe).</summary>
/// <param name="Candidates">Names or paths with the vendor they are expected to be (<see cref="BlasVendor.Other"/>: detect it).</param>
/// <param name="Source"><c>NativeBackendOptions.LibraryPath</c>, <c>FEATURELEARNING_BLAS</c>, or null.</param>
/// <param name="Value">The value given there, trimmed; null for the default probe.</param>
internal sealed record BlasRequest(IReadOnlyList<(string Name, BlasVendor Vendor)> Candidates, string? Source, string? Value);

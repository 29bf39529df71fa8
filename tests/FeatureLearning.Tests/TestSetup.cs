using System.Runtime.CompilerServices;
using FeatureLearning.Compute;

namespace FeatureLearning.Tests;

internal static class TestSetup
{
    /// <summary>Every managed buffer the tests allocate starts as NaN: reads of unwritten memory cannot pass unnoticed.</summary>
    [ModuleInitializer]
    internal static void PoisonNewBuffers() => CpuBackend.PoisonAllocations = true;
}

// The ILGPU test classes run one after another, not in parallel. With the PTX compilation test
// (IlgpuBackendTests.EveryKernelCompilesToPtxForSm90, its own ILGPU context) running beside the conformance suite on
// the CPU accelerator, a single-precision GEMM conformance case came back all zeros in 2 of 4 full runs on the 2-core
// CI machine kind (2026-11-23); the conformance class alone passed 6 of 6. The cause (presumably state shared by
// concurrent ILGPU compilations in one process) is not pinned down.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

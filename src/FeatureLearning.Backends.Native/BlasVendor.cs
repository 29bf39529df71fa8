namespace FeatureLearning.Backends.Native;

/// <summary>Which BLAS/LAPACK implementation the native backend loaded.</summary>
public enum BlasVendor
{
    /// <summary>Intel oneMKL through its single dynamic library <c>mkl_rt</c>.</summary>
    Mkl = 0,

    /// <summary>OpenBLAS.</summary>
    OpenBlas = 1,

    /// <summary>Another library exporting CBLAS and the Fortran LAPACK symbols (given by path).</summary>
    Other = 2,
}

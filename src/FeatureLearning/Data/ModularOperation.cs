namespace FeatureLearning.Data;

/// <summary>A binary operation modulo a prime p.</summary>
public enum ModularOperation
{
    /// <summary>(a + b) mod p.</summary>
    Add = 0,

    /// <summary>(a − b) mod p.</summary>
    Subtract = 1,

    /// <summary>(a · b) mod p.</summary>
    Multiply = 2,

    /// <summary>(a · b⁻¹) mod p, for b ≠ 0.</summary>
    Divide = 3,
}

using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Data;

/// <summary>
/// The modular arithmetic tasks of the grokking literature: all pairs (a, b) of residues mod p (b ≠ 0 for
/// division), input one-hot(a) ⊕ one-hot(b) ∈ {0, 1}^{2p}, output one-hot(a ∘ b mod p) ∈ {0, 1}^p.
/// </summary>
public sealed class ModularArithmetic
{
    private ModularArithmetic(int modulus, ModularOperation operation, int[] a, int[] b, int[] result)
    {
        Modulus = modulus;
        Operation = operation;
        A = a;
        B = b;
        Results = result;
    }

    /// <summary>The prime modulus p.</summary>
    public int Modulus { get; }

    /// <summary>The operation.</summary>
    public ModularOperation Operation { get; }

    /// <summary>First operands.</summary>
    public IReadOnlyList<int> A { get; }

    /// <summary>Second operands.</summary>
    public IReadOnlyList<int> B { get; }

    /// <summary>a ∘ b mod p, the class labels.</summary>
    public IReadOnlyList<int> Results { get; }

    /// <summary>Number of pairs.</summary>
    public int Count => Results.Count;

    /// <summary>Creates the full table of a ∘ b mod p.</summary>
    /// <param name="modulus">A prime p ≥ 3.</param>
    /// <param name="operation">The operation.</param>
    /// <returns>All p² pairs (p(p − 1) for division).</returns>
    /// <exception cref="ArgumentOutOfRangeException">p is not a prime ≥ 3, or the operation is not a <see cref="ModularOperation"/> member.</exception>
    public static ModularArithmetic Create(int modulus, ModularOperation operation)
    {
        if (modulus < 3 || !IsPrime(modulus))
        {
            throw new ArgumentOutOfRangeException(nameof(modulus), modulus, "The modulus must be a prime of at least 3.");
        }

        Validation.DefinedEnum(operation, nameof(operation));

        var a = new List<int>();
        var b = new List<int>();
        var r = new List<int>();
        for (int i = 0; i < modulus; i++)
        {
            for (int j = 0; j < modulus; j++)
            {
                if (operation == ModularOperation.Divide && j == 0)
                {
                    continue;
                }

                a.Add(i);
                b.Add(j);
                r.Add(operation switch
                {
                    ModularOperation.Add => (i + j) % modulus,
                    ModularOperation.Subtract => ((i - j) % modulus + modulus) % modulus,
                    ModularOperation.Multiply => i * j % modulus,
                    _ => (int)((long)i * Inverse(j, modulus) % modulus),
                });
            }
        }

        return new ModularArithmetic(modulus, operation, [.. a], [.. b], [.. r]);
    }

    /// <summary>A seeded random split of the pairs into training and test parts.</summary>
    /// <param name="trainFraction">Fraction of pairs for training, in (0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>Indices of the training and the test pairs.</returns>
    public (int[] Train, int[] Test) Split(double trainFraction, int seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The training fraction must lie strictly between 0 and 1.");
        }

        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int nTrain = Math.Clamp((int)Math.Round(trainFraction * Count), 1, Count - 1);
        return (order[..nTrain], order[nTrain..]);
    }

    /// <summary>Inputs one-hot(a) ⊕ one-hot(b) of the given pairs (|indices| × 2p).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="indices">Pair indices.</param>
    /// <returns>The input matrix.</returns>
    public Matrix<T> Inputs<T>(IReadOnlyList<int> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(indices);
        var x = Matrix<T>.Build.Dense(indices.Count, 2 * Modulus);
        for (int i = 0; i < indices.Count; i++)
        {
            x[i, A[indices[i]]] = T.One;
            x[i, Modulus + B[indices[i]]] = T.One;
        }

        return x;
    }

    /// <summary>Targets one-hot(a ∘ b) of the given pairs (|indices| × p).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="indices">Pair indices.</param>
    /// <returns>The target matrix.</returns>
    public Matrix<T> Targets<T>(IReadOnlyList<int> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
        => OneHot.Encode<T>(Labels(indices), Modulus);

    /// <summary>The class labels a ∘ b of the given pairs.</summary>
    /// <param name="indices">Pair indices.</param>
    /// <returns>The labels.</returns>
    public int[] Labels(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return indices.Select(i => Results[i]).ToArray();
    }

    /// <summary>The smallest primitive root g of p (every non-zero residue is a power of g).</summary>
    /// <param name="modulus">A prime p.</param>
    /// <returns>g.</returns>
    public static int PrimitiveRoot(int modulus)
    {
        int order = modulus - 1;
        var factors = new List<int>();
        int rest = order;
        for (int f = 2; f * f <= rest; f++)
        {
            if (rest % f == 0)
            {
                factors.Add(f);
                while (rest % f == 0)
                {
                    rest /= f;
                }
            }
        }

        if (rest > 1)
        {
            factors.Add(rest);
        }

        for (int g = 2; g < modulus; g++)
        {
            if (factors.All(f => PowMod(g, order / f, modulus) != 1))
            {
                return g;
            }
        }

        throw new ArgumentException($"{modulus} has no primitive root: it is not prime.", nameof(modulus));
    }

    /// <summary>The residues 1 … p − 1 listed in order of their discrete logarithm: g⁰, g¹, …, g^{p−2} mod p.</summary>
    /// <param name="modulus">A prime p.</param>
    /// <returns>The order.</returns>
    public static int[] DiscreteLogOrder(int modulus)
    {
        int g = PrimitiveRoot(modulus);
        var order = new int[modulus - 1];
        long v = 1;
        for (int k = 0; k < modulus - 1; k++)
        {
            order[k] = (int)v;
            v = v * g % modulus;
        }

        return order;
    }

    private static int Inverse(int b, int p) => PowMod(b, p - 2, p);

    private static int PowMod(long b, int e, int m)
    {
        long r = 1;
        b %= m;
        while (e > 0)
        {
            if ((e & 1) == 1)
            {
                r = r * b % m;
            }

            b = b * b % m;
            e >>= 1;
        }

        return (int)r;
    }

    private static bool IsPrime(int n)
    {
        for (int f = 2; f * f <= n; f++)
        {
            if (n % f == 0)
            {
                return false;
            }
        }

        return n >= 2;
    }
}

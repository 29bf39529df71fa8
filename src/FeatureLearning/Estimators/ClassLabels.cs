using FeatureLearning.Serialization;

namespace FeatureLearning.Estimators;

/// <summary>
/// The classes of a classifier, sorted (strings by ordinal order), and the map from a label to its column of the
/// one-hot targets; stored in model files for <see cref="int"/> and <see cref="string"/> labels.
/// </summary>
internal sealed class ClassLabels<TLabel>
    where TLabel : notnull
{
    private const byte IntKind = 1;
    private const byte StringKind = 2;
    private readonly TLabel[] classes;
    private readonly Dictionary<TLabel, int> index;

    private ClassLabels(TLabel[] classes)
    {
        this.classes = classes;
        index = new Dictionary<TLabel, int>(classes.Length);
        for (int k = 0; k < classes.Length; k++)
        {
            index.Add(classes[k], k);
        }
    }

    public IReadOnlyList<TLabel> Classes => Array.AsReadOnly(classes);

    public int Count => classes.Length;

    public TLabel this[int k] => classes[k];

    /// <summary>The distinct labels, sorted; at least two are needed.</summary>
    public static ClassLabels<TLabel> From(IReadOnlyList<TLabel> labels, string name)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is null)
            {
                throw new ArgumentException($"Label {i} is null.", name);
            }
        }

        var distinct = labels.Distinct().ToArray();
        Array.Sort(distinct, typeof(TLabel) == typeof(string) ? (IComparer<TLabel>)StringComparer.Ordinal : Comparer<TLabel>.Default);
        if (distinct.Length < 2)
        {
            throw new ArgumentException($"A classifier needs at least two classes; the labels hold {distinct.Length}.", name);
        }

        return new ClassLabels<TLabel>(distinct);
    }

    /// <summary>The class index of every label; a label the classifier does not know is refused.</summary>
    public int[] Indices(IReadOnlyList<TLabel> labels, string name)
    {
        var result = new int[labels.Count];
        for (int i = 0; i < result.Length; i++)
        {
            if (labels[i] is null || !index.TryGetValue(labels[i], out result[i]))
            {
                throw new ArgumentException($"Label {i} ('{labels[i]}') is not one of the {classes.Length} classes seen in training.", name);
            }
        }

        return result;
    }

    public void Write(BinaryWriter w)
    {
        switch (classes)
        {
            case int[] ints:
                w.Write(IntKind);
                w.Write(ints.Length);
                foreach (int v in ints)
                {
                    w.Write(v);
                }

                break;
            case string[] strings:
                w.Write(StringKind);
                w.Write(strings.Length);
                foreach (string v in strings)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(v);
                    w.Write(bytes.Length);
                    w.Write(bytes);
                }

                break;
            default:
                throw new NotSupportedException($"Labels of type {typeof(TLabel).Name} cannot be saved: the model format stores int and string labels.");
        }
    }

    public static ClassLabels<TLabel> Read(ModelReader r)
    {
        long at = r.Position;
        byte kind = r.ReadByte("label type");
        byte expected = typeof(TLabel) == typeof(int) ? IntKind : typeof(TLabel) == typeof(string) ? StringKind : (byte)0;
        if (kind is not (IntKind or StringKind))
        {
            throw ModelReader.Corrupt($"the label type at byte {at} is {kind}, not {IntKind} (int) or {StringKind} (string).");
        }

        if (kind != expected)
        {
            throw new InvalidDataException($"The classifier was saved with {(kind == IntKind ? "int" : "string")} labels; load it as FittedClassifier<{(kind == IntKind ? "int" : "string")}>.");
        }

        int count = r.ReadCount("classes", sizeof(int));
        var values = new object[count];
        for (int k = 0; k < count; k++)
        {
            values[k] = kind == IntKind ? r.ReadInt32("class label") : r.ReadUtf8("class label");
        }

        var labels = values.Cast<TLabel>().ToArray();
        if (count < 2 || labels.Distinct().Count() != count)
        {
            throw ModelReader.Corrupt($"the {count} class labels from byte {at} are not at least two distinct labels.");
        }

        return new ClassLabels<TLabel>(labels);
    }
}

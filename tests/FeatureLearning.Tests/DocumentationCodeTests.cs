using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FeatureLearning.Tests;

/// <summary>
/// Every C# block (```csharp) of README.md and docs/*.md compiles on its own, as a program by itself: top-level
/// statements with the implicit usings of a console project, against the .NET runtime, MathNet.Numerics, ScottPlot and the
/// FeatureLearning assemblies (the core and FeatureLearning.Plotting) — what a reader gets by pasting the block into a new console project or a script.
/// </summary>
public sealed partial class DocumentationCodeTests
{
    private static readonly string Root = FindRoot();

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(FeatureLearning.Rfm.RecursiveFeatureMachine).Assembly.Location);
        paths.Add(typeof(MathNet.Numerics.LinearAlgebra.Matrix<double>).Assembly.Location);
        paths.Add(typeof(FeatureLearning.Plotting.Plots).Assembly.Location);
        paths.Add(typeof(ScottPlot.Plot).Assembly.Location);
        return paths.Where(File.Exists).Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, index, _) in AllBlocks())
        {
            data.Add(file, index);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void TheBlockCompilesAsAProgram(string file, int index)
    {
        var (_, _, code) = AllBlocks().Single(b => b.File == file && b.Index == index);
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            $"Block{index}",
            [CSharpSyntaxTree.ParseText(ImplicitUsings, options), CSharpSyntaxTree.ParseText(code, options, path: $"{file}#{index}")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        errors.Should().BeEmpty($"block {index} of {file} must compile by itself:\n{code}");
    }

    [Fact]
    public void TheDocumentsHoldCSharpBlocks() => AllBlocks().Should().HaveCountGreaterThan(10, "README.md and docs/ show C# code");

    private static IEnumerable<(string File, int Index, string Code)> AllBlocks()
    {
        var files = new[] { Path.Combine(Root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal));
        foreach (string path in files)
        {
            string name = Path.GetRelativePath(Root, path);
            int index = 0;
            foreach (Match m in CSharpBlock().Matches(File.ReadAllText(path)))
            {
                yield return (name, index++, m.Groups["code"].Value);
            }
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FeatureLearning.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No FeatureLearning.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^```(?:csharp|cs|c#)[ \t]*\r?\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}

using System.Reflection;
using FeatureLearning.Estimators;
using FeatureLearning.Rfm;
using MathNet.Numerics.LinearAlgebra;

namespace FeatureLearning.Plotting;

/// <summary>
/// Inline display in .NET Interactive notebooks (Jupyter with the .NET kernel, VS Code Polyglot Notebooks, dotnet-repl):
/// after <see cref="UseFormatters"/>, a cell that ends in a <see cref="Figure"/>, an <c>RfmModel&lt;double&gt;</c>, a fitted
/// classifier (int, long or string labels) or regressor, or a <c>Matrix&lt;double&gt;</c> (at most
/// <see cref="MaxHeatMapSize"/> on a side; an RFM model's M likewise) shows a picture (and for a model, its round table)
/// instead of text.
/// </summary>
/// <remarks>
/// The formatters are registered through the notebook kernel's own <c>Microsoft.DotNet.Interactive.Formatting</c>
/// assembly, found among the loaded assemblies by reflection, so this package does not depend on (a possibly different
/// version of) it. Matrices larger than <see cref="MaxHeatMapSize"/> on a side keep the kernel's text display.
/// </remarks>
public static class Notebook
{
    /// <summary>The largest matrix side shown as a heat map (larger ones are left to the default formatter).</summary>
    public const int MaxHeatMapSize = 400;

    /// <summary>Registers the HTML formatters with the running notebook kernel.</summary>
    /// <returns>False when no .NET Interactive formatter is loaded (not in a notebook): nothing is registered.</returns>
    public static bool UseFormatters()
    {
        var formatter = AppDomain.CurrentDomain.GetAssemblies()
            .FirstOrDefault(a => a.GetName().Name == "Microsoft.DotNet.Interactive.Formatting")?
            .GetType("Microsoft.DotNet.Interactive.Formatting.Formatter");
        var register = formatter?.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .FirstOrDefault(m => m.Name == "Register" && m.IsGenericMethodDefinition && m.GetParameters() is var p && p.Length == 2
                && p[0].ParameterType.IsGenericType && p[0].ParameterType.GetGenericTypeDefinition() == typeof(Func<,>) && p[1].ParameterType == typeof(string));
        if (register is null)
        {
            return false;
        }

        Register<Figure>(register, f => f.ToHtml());
        Register<RfmModel<double>>(register, ModelHtml);
        Register<FittedClassifier<int>>(register, m => MachineHtml(m.Rfm, m.ToString()));
        Register<FittedClassifier<long>>(register, m => MachineHtml(m.Rfm, m.ToString()));
        Register<FittedClassifier<string>>(register, m => MachineHtml(m.Rfm, m.ToString()));
        Register<FittedRegressor>(register, m => MachineHtml(m.Rfm, m.ToString()));
        Register<Matrix<double>>(register, MatrixHtml);
        return true;
    }

    /// <summary>The HTML shown for a fitted RFM model: its description, M as a heat map, the history plot and the round table.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The HTML.</returns>
    public static string ModelHtml(RfmModel<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.FeatureMatrix.RowCount > MaxHeatMapSize)
        {
            using var curves = Plots.History(model);
            return $"<div><p>{Encode(model.ToString())} (M is {model.FeatureMatrix.RowCount} x {model.FeatureMatrix.RowCount}: too large to draw)</p>{curves.ToHtml()}</div>";
        }

        var rows = string.Concat(model.History.Select(r =>
            $"<tr{(r.Iteration == model.SelectedIteration ? " style=\"font-weight:bold\"" : string.Empty)}><td>{r.Iteration}</td><td>{r.TrainMse:G4}</td><td>{Cell(r.TrainAccuracy)}</td><td>{Cell(r.ValidationMse)}</td><td>{Cell(r.ValidationAccuracy)}</td><td>{r.Seconds:F2}</td></tr>"));
        using var matrix = Plots.FeatureMatrix(model);
        using var history = Plots.History(model);
        return $"<div><p>{Encode(model.ToString())}</p>{matrix.ToHtml()}{history.ToHtml()}"
            + $"<table><tr><th>round</th><th>train MSE</th><th>train acc.</th><th>val. MSE</th><th>val. acc.</th><th>s</th></tr>{rows}</table></div>";
    }

    private static string MachineHtml(RfmModel<double>? rfm, string description) =>
        rfm is null ? $"<p>{Encode(description)}</p>" : $"<div><p>{Encode(description)}</p>{ModelHtml(rfm)}</div>";

    private static string MatrixHtml(Matrix<double> m)
    {
        if (m.RowCount > MaxHeatMapSize || m.ColumnCount > MaxHeatMapSize || m.RowCount == 0 || m.ColumnCount == 0 || !m.Enumerate().All(double.IsFinite))
        {
            return $"<pre>{Encode(m.ToString())}</pre>";
        }

        using var figure = Plots.HeatMap(m, $"{m.RowCount} x {m.ColumnCount}");
        return $"<div><p>{m.RowCount} × {m.ColumnCount} matrix</p>{figure.ToHtml()}</div>";
    }

    private static string Cell(double v) => double.IsFinite(v) ? v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "–";

    private static string Encode(string text) => System.Net.WebUtility.HtmlEncode(text);

    private static void Register<T>(MethodInfo register, Func<T, string> html) => register.MakeGenericMethod(typeof(T)).Invoke(null, [html, "text/html"]);
}

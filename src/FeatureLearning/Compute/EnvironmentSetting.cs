namespace FeatureLearning.Compute;

/// <summary>
/// Parses the value of one of the library's environment variables against the values it accepts, so that a misspelt
/// setting fails loudly instead of falling back silently. Kept apart from the reading of the variable, which happens once
/// per process, so that it can be tested with any value.
/// </summary>
internal static class EnvironmentSetting
{
    /// <summary>The accepted value <paramref name="value"/> names (case-insensitive, surrounding spaces ignored), in its accepted spelling; null when unset or blank.</summary>
    /// <param name="variable">The variable's name, for the message.</param>
    /// <param name="value">The variable's value (null when unset).</param>
    /// <param name="accepted">The accepted values.</param>
    /// <exception cref="InvalidOperationException">The value is none of <paramref name="accepted"/>; the message names the variable, the value and the accepted values.</exception>
    public static string? Parse(string variable, string? value, IReadOnlyList<string> accepted)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string trimmed = value.Trim();
        return accepted.FirstOrDefault(a => a.Equals(trimmed, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException(
                $"The environment variable {variable} is '{value}', which is not an accepted value: use one of {string.Join(", ", accepted)}, or leave it unset.");
    }
}

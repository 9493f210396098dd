using System.Globalization;
using System.Text.RegularExpressions;

namespace VideoCallbacks.Simulator;

/// <summary>
/// Per-submission behaviour switches embedded in the source-task-id (or prompt) as
/// <c>~name</c> / <c>~name=value</c> tokens. Carrying them in the request, not in shared
/// state, lets parallel tests misbehave independently against one simulator.
/// </summary>
internal sealed partial class Directives
{
    public static readonly Directives None = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    private readonly Dictionary<string, string> values;

    private Directives(Dictionary<string, string> values) => this.values = values;

    public IReadOnlyDictionary<string, string> Values => values;

    public static Directives Parse(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Contains('~', StringComparison.Ordinal))
        {
            return None;
        }

        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in TokenPattern().Matches(text))
        {
            // A value runs to the next '~' so that "~fail=out of credits" keeps its spaces.
            found[match.Groups["name"].Value] = match.Groups["value"].Success ? match.Groups["value"].Value.Trim() : "";
        }

        return new Directives(found);
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string? Get(string name) => values.TryGetValue(name, out var value) ? value : null;

    /// <summary>The leading integer of the value, or <paramref name="fallback"/> when absent or not a number.</summary>
    public int GetInt(string name, int fallback)
    {
        if (!values.TryGetValue(name, out var raw))
        {
            return fallback;
        }

        var digits = LeadingInteger().Match(raw);
        return digits.Success && int.TryParse(digits.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : fallback;
    }

    /// <summary>A non-empty value, else <paramref name="fallback"/> (for <c>~fail</c> vs <c>~fail=reason</c>).</summary>
    public string ValueOr(string name, string fallback) =>
        values.TryGetValue(name, out var value) && value.Length > 0 ? value : fallback;

    [GeneratedRegex(@"~(?<name>[A-Za-z][A-Za-z0-9_-]*)(?:=(?<value>[^~]*))?", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"^-?\d+", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingInteger();
}

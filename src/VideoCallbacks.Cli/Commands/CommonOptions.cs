using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace VideoCallbacks.Cli.Commands;

/// <summary>Factories for options several commands share (each command gets its own instances).</summary>
internal static class CommonOptions
{
    public static readonly string[] Providers = ["kie", "apiframe", "nanogpt"];
    public static readonly string[] EventStatuses = ["pending", "published", "failed"];
    public static readonly string[] CallbackOutcomes = ["accepted", "duplicate", "rejected", "unmatched", "failed"];

    public static Option<string?> Choice(string name, string description, string[] values)
    {
        var option = new Option<string?>(name)
        {
            Description = description,
            HelpName = string.Join('|', values),
        };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    public static Option<string?> Provider(string description = "Only this provider") =>
        Choice("--provider", description, Providers);

    public static Option<string?> Text(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>An ISO-8601 timestamp; without an offset it is taken as UTC.</summary>
    public static Option<DateTimeOffset?> Timestamp(string name, string description) =>
        new(name)
        {
            Description = description + " (ISO-8601, e.g. 2025-01-31T12:00:00Z; UTC when no offset)",
            HelpName = "timestamp",
            CustomParser = result => ParseTimestamp(name, result),
        };

    public static Option<int?> Limit(string description)
    {
        var option = new Option<int?>("--limit") { Description = description, HelpName = "n" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--limit must be a positive number");
            }
        });
        return option;
    }

    public static Option<string?> Cursor() =>
        Text("--cursor", "Start from this page cursor (the nextCursor of a previous page)", "cursor");

    public static Option<bool> All() =>
        new("--all") { Description = "Follow nextCursor and list every page" };

    private static DateTimeOffset? ParseTimestamp(string name, ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (DateTimeOffset.TryParse(
                text,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces,
                out var value))
        {
            return value;
        }

        result.AddError($"{name}: '{text}' is not an ISO-8601 timestamp (e.g. 2025-01-31T12:00:00Z)");
        return null;
    }
}

using System.Globalization;

namespace VideoCallbacks.Api.Admin;

/// <summary>
/// Reads admin query strings with messages that say what to send instead. Kept rather than <c>[AsParameters]</c> with
/// typed properties: the framework's binding stops at the first value it cannot convert and answers a generic "Failed to
/// bind parameter" 400 (one field, no allowed values), while the admin contract lists every bad field at once with what
/// to send instead (the allowed statuses, the providers and clients configured, an ISO-8601 example, a range). Binding
/// the parameters as strings and validating them is exactly what this does, without a second layer of records.
/// </summary>
internal sealed class QueryReader(IQueryCollection query)
{
    public Dictionary<string, string[]> Errors { get; } = [];

    public string? OneOf(string name, params string[] allowed)
    {
        var v = Value(name);
        if (v is null || allowed.Contains(v)) return v;
        Errors[name] = [$"{name} must be one of: {string.Join(", ", allowed)}."];
        return null;
    }

    public DateTimeOffset? Time(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t;
        Errors[name] = [$"{name} must be an ISO-8601 time such as 2026-01-31T10:00:00Z."];
        return null;
    }

    public (DateTimeOffset? Since, DateTimeOffset? Until) TimeRange(string sinceName, string untilName)
    {
        var since = Time(sinceName);
        var until = Time(untilName);
        if (!AdminEndpoints.TimeRangeIsValid(since, until)) Errors[untilName] = [AdminEndpoints.TimeRangeMessage];
        return (since, until);
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var v = Value(name);
        if (v is null) return fallback;
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        Errors[name] = [$"{name} must be a whole number between {min} and {max}."];
        return fallback;
    }

    public long? Long(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        Errors[name] = [$"{name} must be the nextCursor value from a previous page."];
        return null;
    }

    private string? Value(string name) => query[name].FirstOrDefault() is { Length: > 0 } v ? v : null;
}

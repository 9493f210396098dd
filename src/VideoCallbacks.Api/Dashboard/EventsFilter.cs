using System.Globalization;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Providers;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>The failed-events page's filter, read from its query string or from a bulk action's form (the same fields).</summary>
public sealed record EventsFilter(string? Provider, string? Type, DateTimeOffset? Since, DateTimeOffset? Until, long? Cursor)
{
    public static (EventsFilter Filter, string? Error) Read(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> values, ProviderRegistry providers)
    {
        var q = new QueryReader(new QueryCollection(values.ToDictionary(kv => kv.Key, kv => kv.Value)));
        var provider = q.OneOf("provider", [.. providers.Names]);
        var type = q.OneOf("type", EventTypes.All);
        var (since, until) = q.TimeRange("since", "until");
        var cursor = q.Long("cursor");
        var error = q.Errors.Count == 0 ? null : string.Join(" ", q.Errors.SelectMany(e => e.Value));
        return (new EventsFilter(provider, type, since, until, cursor), error);
    }

    public EventFilter ToEventFilter(int limit) => new(PublishStatuses.Failed, Provider, Type, Since, Until, Cursor, limit);

    /// <summary>The same filter as the admin API's bulk replay and purge take.</summary>
    public ReplayFilter ToReplayFilter(bool dryRun) => new(PublishStatuses.Failed, Provider, Type, Since, Until, AdminEndpoints.MaxBulk, DryRun: dryRun);

    /// <summary>For a datetime-local input: minutes, UTC.</summary>
    public static string? Input(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);

    public string Query(long? cursor = null) => string.Join("&", new[]
    {
        Provider is null ? null : "provider=" + Uri.EscapeDataString(Provider),
        Type is null ? null : "type=" + Uri.EscapeDataString(Type),
        Input(Since) is { } s ? "since=" + Uri.EscapeDataString(s + "Z") : null,
        Input(Until) is { } u ? "until=" + Uri.EscapeDataString(u + "Z") : null,
        cursor is null ? null : "cursor=" + cursor.Value.ToString(CultureInfo.InvariantCulture),
    }.Where(p => p is not null));
}

using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Dashboard.Pages;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>
/// The dashboard's state-changing forms (POST): each checks its antiforgery token, does what the admin API does with
/// the same store calls, audits under the signed-in admin key's id, and redirects back with a notice (post/redirect/get).
/// </summary>
public static class DashboardActions
{
    internal static async Task<string?> CsrfProblemAsync(HttpContext http, IAntiforgery antiforgery)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(http);
            return null;
        }
        catch (AntiforgeryValidationException)
        {
            return "The form had expired or did not come from this dashboard; nothing was changed. Reload the page and try again.";
        }
    }

    private static RedirectHttpResult Back(string path, string notice, bool error = false) =>
        TypedResults.Redirect($"{path}{(path.Contains('?', StringComparison.Ordinal) ? "&" : "?")}notice={Uri.EscapeDataString(notice)}{(error ? "&error=1" : "")}");

    public static async Task<RedirectHttpResult> ReplayEventAsync(string eventId, HttpContext http, IAntiforgery antiforgery, AdminStore store, OutboxSignal signal,
        TimeProvider time, CancellationToken ct)
    {
        if (await CsrfProblemAsync(http, antiforgery) is { } csrf) return Back("/admin/events", csrf, error: true);
        var back = ReturnPath(http, "/admin/events");
        var e = eventId.Length <= 200 ? await store.GetEventAsync(eventId, ct) : null;
        if (e is null) return Back(back, $"There is no event '{Infrastructure.Problems.Shorten(eventId, 80)}'.", error: true);
        if (e.PublishStatus != PublishStatuses.Failed) return Back(back, $"Event {e.EventId} is {e.PublishStatus}, not failed; nothing to replay.", error: true);
        var replayed = await store.ReplayEventsAsync([e.Sequence], includePublished: false, time.GetUtcNow(), ct);
        await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.replay", eventId, replayed, "dashboard", ct);
        signal.Notify();
        return Back(back, replayed == 1 ? $"Event {e.EventId} is pending again; the relay publishes it next." : $"Event {e.EventId} had already moved on.");
    }

    /// <summary>Step one counts (a dry run) and asks to confirm; step two, with <c>confirm=yes</c>, replays.</summary>
    public static Task<Results<RedirectHttpResult, RazorComponentResult>> ReplayFilteredAsync(HttpContext http, IAntiforgery antiforgery, AdminStore store,
        ProviderRegistry providers, OutboxSignal signal, TimeProvider time, CancellationToken ct) =>
        BulkAsync(http, antiforgery, store, providers, time, "replay", async (sequences, filter) =>
        {
            var n = await store.ReplayEventsAsync(sequences, includePublished: false, time.GetUtcNow(), ct);
            await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.replay-bulk", Describe(filter), n, $"matched {sequences.Count}; dashboard", ct);
            signal.Notify();
            return $"{n.ToString("N0", CultureInfo.InvariantCulture)} events are pending again.";
        }, ct);

    public static Task<Results<RedirectHttpResult, RazorComponentResult>> PurgeFilteredAsync(HttpContext http, IAntiforgery antiforgery, AdminStore store,
        ProviderRegistry providers, TimeProvider time, CancellationToken ct) =>
        BulkAsync(http, antiforgery, store, providers, time, "purge", async (sequences, filter) =>
        {
            var n = await store.PurgeFailedEventsAsync(sequences, ct);
            await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.purge", Describe(filter), n, $"matched {sequences.Count}; dashboard", ct);
            return $"{n.ToString("N0", CultureInfo.InvariantCulture)} failed events were deleted.";
        }, ct);

    private static async Task<Results<RedirectHttpResult, RazorComponentResult>> BulkAsync(HttpContext http, IAntiforgery antiforgery, AdminStore store,
        ProviderRegistry providers, TimeProvider time, string verb, Func<IReadOnlyList<long>, EventsFilter, Task<string>> act, CancellationToken ct)
    {
        if (await CsrfProblemAsync(http, antiforgery) is { } csrf) return Back("/admin/events", csrf, error: true);
        var form = await http.Request.ReadFormAsync(ct);
        var (filter, error) = EventsFilter.Read(form.Where(kv => kv.Key is "provider" or "type" or "since" or "until"), providers);
        if (error is not null) return Back("/admin/events", error, error: true);
        var matched = await store.ListEventsAsync(filter.ToEventFilter(AdminEndpoints.MaxBulk), ct);
        if (form["confirm"].FirstOrDefault() != "yes")
        {
            // The dry run: how many, and a form to confirm exactly this filter.
            return DashboardPages.Render<ConfirmPage>(new()
            {
                [nameof(ConfirmPage.Ctx)] = DashboardPages.Context(http, antiforgery, verb == "purge" ? "Confirm purge" : "Confirm replay"),
                [nameof(ConfirmPage.Verb)] = verb,
                [nameof(ConfirmPage.Filter)] = filter,
                [nameof(ConfirmPage.Matched)] = matched.Count,
                [nameof(ConfirmPage.Capped)] = matched.Count == AdminEndpoints.MaxBulk,
            });
        }
        var notice = await act(matched.Select(e => e.Sequence).ToList(), filter);
        return Back("/admin/events?" + filter.Query(), notice);
    }

    public static async Task<RedirectHttpResult> ReprocessAsync(long id, HttpContext http, IAntiforgery antiforgery, CallbackReprocessor reprocessor, CancellationToken ct)
    {
        if (await CsrfProblemAsync(http, antiforgery) is { } csrf) return Back($"/admin/callbacks/{id}", csrf, error: true);
        var back = ReturnPath(http, $"/admin/callbacks/{id}");
        var outcome = await reprocessor.ReprocessAsync(id, http.User.KeyId(), ct);
        return outcome.Result is { } r
            ? Back(back, $"Callback {id} reprocessed: {r.Outcome}{(r.EventId is null ? "" : $", event {r.EventId}")}.")
            : Back(back, $"{outcome.Title} {outcome.Detail}", error: true);
    }

    /// <summary>Where a form came from (a dashboard path only), to go back to.</summary>
    private static string ReturnPath(HttpContext http, string fallback) =>
        http.Request.HasFormContentType && http.Request.Form["back"].FirstOrDefault() is { } b
            && b.StartsWith("/admin", StringComparison.Ordinal) && !b.StartsWith("//", StringComparison.Ordinal) && b.Length <= 2000
            ? StripNotice(b) : fallback;

    private static string StripNotice(string path)
    {
        var q = path.IndexOf('?', StringComparison.Ordinal);
        if (q < 0) return path;
        var kept = path[(q + 1)..].Split('&').Where(p => !p.StartsWith("notice=", StringComparison.Ordinal) && !p.StartsWith("error=", StringComparison.Ordinal));
        var query = string.Join("&", kept);
        return query.Length == 0 ? path[..q] : path[..q] + "?" + query;
    }

    private static string Describe(EventsFilter f) => JsonSerializer.Serialize(f.ToReplayFilter(dryRun: false));
}

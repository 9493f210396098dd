using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Archive;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Dashboard.Pages;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>What every page's layout needs: its title, the antiforgery token for its forms, who is signed in, a notice.</summary>
public sealed record PageContext(string Title, string Path, string Csrf, string KeyId, string? Notice = null, bool NoticeIsError = false);

/// <summary>The dashboard's pages (GET). Each reads through an indexed, bounded query and renders a Razor component.</summary>
public static class DashboardPages
{
    public const int PageSize = 50;

    internal static PageContext Context(HttpContext http, IAntiforgery antiforgery, string title, string? notice = null, bool error = false) =>
        new(title, http.Request.Path, antiforgery.GetAndStoreTokens(http).RequestToken!, http.User.KeyId(), notice ?? http.Request.Query["notice"].FirstOrDefault(),
            error || http.Request.Query["error"].FirstOrDefault() == "1");

    internal static RazorComponentResult Render<TPage>(Dictionary<string, object?> parameters, int status = 200) where TPage : Microsoft.AspNetCore.Components.IComponent =>
        new RazorComponentResult<TPage>(parameters) { StatusCode = status };

    public static async Task<RazorComponentResult> HomeAsync(HttpContext http, IAntiforgery antiforgery, HealthCheckService health, OutboxStore outbox,
        DashboardQueries queries, TimeProvider time, CancellationToken ct)
    {
        // /admin answers both ways: the overview with a session, the sign-in form without one.
        var session = await http.AuthenticateAsync(DashboardDefaults.Scheme);
        if (!session.Succeeded || !session.Principal!.IsAdmin()) return DashboardEndpoints.SignInPage(http, antiforgery, null);
        http.User = session.Principal;
        var now = time.GetUtcNow();
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(HealthEndpoints.ReadyTag), ct);
        OutboxStats? stats = null;
        try { stats = await outbox.GetOutboxStatsAsync(now, ct); } catch (StoreUnavailableException) { }
        var since = now.AddMinutes(-59).ToUnixTimeMilliseconds() / 60000 * 60000;
        var from = DateTimeOffset.FromUnixTimeMilliseconds(since);
        IReadOnlyList<MinuteCount> callbacks = [], events = [];
        try
        {
            callbacks = await queries.CallbacksPerMinuteAsync(from, ct);
            events = await queries.EventsPerMinuteAsync(from, ct);
        }
        catch (StoreUnavailableException) { }
        return Render<OverviewPage>(new()
        {
            [nameof(OverviewPage.Ctx)] = Context(http, antiforgery, "Overview"),
            [nameof(OverviewPage.Health)] = report.Entries.Select(e => (e.Key, e.Value.Status.ToString(), e.Value.Description)).ToList(),
            [nameof(OverviewPage.Outbox)] = stats,
            [nameof(OverviewPage.Now)] = now,
            [nameof(OverviewPage.FirstMinute)] = since / 60000,
            [nameof(OverviewPage.Callbacks)] = callbacks,
            [nameof(OverviewPage.Events)] = events,
        });
    }

    public static RazorComponentResult SignInForm(HttpContext http, IAntiforgery antiforgery, string? returnUrl, string? signedOut) =>
        DashboardEndpoints.SignInPage(http, antiforgery, signedOut == "1" ? "You are signed out." : null, returnUrl: returnUrl);

    public static async Task<RazorComponentResult> FailedEventsAsync(HttpContext http, IAntiforgery antiforgery, AdminStore store, ProviderRegistry providers, CancellationToken ct)
    {
        var (filter, errors) = EventsFilter.Read(http.Request.Query, providers);
        IReadOnlyList<StoredEvent> events = [];
        if (errors is null) events = await store.ListEventsAsync(filter.ToEventFilter(PageSize), ct);
        return Render<FailedEventsPage>(new()
        {
            [nameof(FailedEventsPage.Ctx)] = Context(http, antiforgery, "Failed events", errors, errors is not null),
            [nameof(FailedEventsPage.Filter)] = filter,
            [nameof(FailedEventsPage.Events)] = events,
            [nameof(FailedEventsPage.NextCursor)] = events.Count == PageSize ? events[^1].Sequence : null,
            [nameof(FailedEventsPage.Providers)] = providers.Names,
        });
    }

    public static async Task<RazorComponentResult> CallbacksAsync(HttpContext http, IAntiforgery antiforgery, AdminStore store, ProviderRegistry providers,
        string? outcome, string? provider, long? cursor, CancellationToken ct)
    {
        var view = CallbackViews.Contains(outcome ?? "") ? outcome! : CallbackOutcomes.Failed;
        var anomalies = view == CallbackViewsAnomalies;
        var known = providers.IsKnown(provider) ? provider : null;
        var callbacks = await store.ListCallbacksAsync(new CallbackFilter(anomalies ? CallbackOutcomes.Duplicate : view, known, null, null, cursor, PageSize,
            ReasonPrefix: anomalies ? "anomaly:" : null), ct);
        return Render<CallbacksPage>(new()
        {
            [nameof(CallbacksPage.Ctx)] = Context(http, antiforgery, "Callbacks"),
            [nameof(CallbacksPage.View)] = view,
            [nameof(CallbacksPage.Provider)] = known,
            [nameof(CallbacksPage.Providers)] = providers.Names,
            [nameof(CallbacksPage.Callbacks)] = callbacks,
            [nameof(CallbacksPage.NextCursor)] = callbacks.Count == PageSize ? callbacks[^1].Id : null,
        });
    }

    /// <summary>The callback lists an operator looks at: the outcomes, and "anomaly" duplicates (news that contradicted a final state).</summary>
    public static readonly IReadOnlyList<string> CallbackViews =
        [CallbackOutcomes.Failed, CallbackOutcomes.Rejected, CallbackOutcomes.Unmatched, CallbackViewsAnomalies, CallbackOutcomes.Duplicate, CallbackOutcomes.Accepted];

    private const string CallbackViewsAnomalies = "anomalies";

    public static async Task<Results<RazorComponentResult, NotFound>> CallbackAsync(long id, HttpContext http, IAntiforgery antiforgery, AdminStore store, CancellationToken ct)
    {
        var callback = await store.GetCallbackAsync(id, ct);
        if (callback is null) return TypedResults.NotFound();
        return Render<CallbackPage>(new()
        {
            [nameof(CallbackPage.Ctx)] = Context(http, antiforgery, $"Callback {id.ToString("N0", CultureInfo.InvariantCulture)}"),
            [nameof(CallbackPage.Callback)] = callback,
        });
    }

    public static async Task<RazorComponentResult> JobsAsync(HttpContext http, IAntiforgery antiforgery, DashboardQueries queries, JobReader jobs, AdminStore store,
        ProviderRegistry providers, string? q, CancellationToken ct)
    {
        var term = q?.Trim();
        IReadOnlyList<string> matches = [];
        Job? job = null;
        IReadOnlyList<StoredEvent> events = [];
        IReadOnlyList<StoredCallback> callbacks = [];
        string? notice = null;
        if (term is { Length: > 200 }) notice = "Search for a job id, a provider task id or a correlation id (at most 200 characters).";
        else if (term is { Length: > 0 })
        {
            matches = await queries.FindJobsAsync(term, providers.Names, ct);
            if (matches.Count == 1)
            {
                job = await jobs.GetJobAsync(matches[0], ct);
                events = await queries.EventsOfJobAsync(matches[0], ct);
                callbacks = await store.ListCallbacksAsync(new CallbackFilter(null, null, null, null, null, 500, JobId: matches[0]), ct);
            }
            else if (matches.Count == 0) notice = $"No job has the id, provider task id or correlation id '{Problems.Shorten(term, 80)}'.";
        }
        return Render<JobPage>(new()
        {
            [nameof(JobPage.Ctx)] = Context(http, antiforgery, job is null ? "Find a job" : $"Job {job.JobId}", notice, notice is not null && term is { Length: > 0 }),
            [nameof(JobPage.Query)] = term,
            [nameof(JobPage.Matches)] = matches,
            [nameof(JobPage.Job)] = job,
            [nameof(JobPage.Timeline)] = job is null ? [] : Timeline.Of(job, events, callbacks),
        });
    }

    public static Task<IResult> VideoAsync(string jobId, int index, HttpContext http, JobReader jobs, IServiceProvider services, CancellationToken ct) =>
        ArchiveEndpoints.GetVideo(jobId, index, http, jobs, services, ct);

    public static RazorComponentResult Live(HttpContext http, IAntiforgery antiforgery) =>
        Render<LivePage>(new() { [nameof(LivePage.Ctx)] = Context(http, antiforgery, "Live") });

    /// <summary>The event stream from now on (the live page shows what arrives, not history), as the feed's SSE.</summary>
    public static async Task<Results<EventStreamResult, ProblemHttpResult>> LiveStreamAsync(HttpContext http, StreamSlots slots, FeedQueries feed,
        IOptions<EventFeedOptions> options, CancellationToken ct)
    {
        if (slots.TryTake("admin:" + http.User.KeyId()) is not { } slot)
        {
            return Problems.Status(StatusCodes.Status429TooManyRequests, "Too many open event streams.", "Close another live page and reload.");
        }
        var start = http.Request.Headers["Last-Event-ID"].FirstOrDefault() is { } last && long.TryParse(last, out var id) && id >= 0
            ? id
            : Math.Max(0, await feed.NewestSequenceAsync(ct) - 20);
        return new EventStreamResult(start, null, options.Value.Heartbeat, slot);
    }

    public static async Task<RazorComponentResult> AuditAsync(HttpContext http, IAntiforgery antiforgery, DashboardQueries queries, string? action, string? key,
        long? before, CancellationToken ct)
    {
        var a = action is { Length: > 0 and <= 100 } ? action : null;
        var k = key is { Length: > 0 and <= 100 } ? key : null;
        var entries = await queries.AuditAsync(a, k, before, PageSize, ct);
        return Render<AuditPage>(new()
        {
            [nameof(AuditPage.Ctx)] = Context(http, antiforgery, "Audit"),
            [nameof(AuditPage.Action)] = a,
            [nameof(AuditPage.Key)] = k,
            [nameof(AuditPage.Entries)] = entries,
            [nameof(AuditPage.NextBefore)] = entries.Count == PageSize ? entries[^1].Id : null,
        });
    }
}

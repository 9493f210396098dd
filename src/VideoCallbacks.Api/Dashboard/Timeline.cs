using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>One thing that happened to a job.</summary>
/// <param name="Link">A dashboard page about it (a stored callback), if any.</param>
public sealed record TimelineEntry(DateTimeOffset At, string Kind, string Title, string? Detail, string? Link = null);

/// <summary>A job's story in time order: created, its callbacks, its events (with how publishing went), its provider checks and its videos.</summary>
public static class Timeline
{
    public static IReadOnlyList<TimelineEntry> Of(Job job, IReadOnlyList<StoredEvent> events, IReadOnlyList<StoredCallback> callbacks)
    {
        var entries = new List<TimelineEntry>
        {
            new(job.CreatedAt, "job", "Submitted to " + job.Provider, job.ProviderTaskId is null ? "no provider task id yet" : "provider task " + job.ProviderTaskId),
        };
        entries.AddRange(callbacks.Select(c => new TimelineEntry(c.ReceivedAt, "callback", $"Callback {c.Outcome}",
            c.Reason ?? (c.EventId is null ? null : "event " + c.EventId), $"/admin/callbacks/{c.Id}")));
        entries.AddRange(events.Select(e => new TimelineEntry(e.Time, "event", e.Type,
            e.PublishStatus switch
            {
                PublishStatuses.Published => $"published {e.PublishedAt:u}",
                PublishStatuses.Failed => $"failed after {e.Attempts} attempts: {e.LastError}",
                _ => $"pending ({e.Attempts} attempts so far)",
            })));
        if (job.NextCheckAt is { } next) entries.Add(new(next, "check", "Next provider check", $"{job.CheckAttempts} checks so far"));
        else if (job.CheckAttempts > 0) entries.Add(new(job.UpdatedAt, "check", "Provider checks", $"{job.CheckAttempts} checks made"));
        if (job.Archive is { } archive)
        {
            entries.Add(new(job.UpdatedAt, "archive", "Archive " + archive.Status,
                archive.Error is { } error ? $"{error.Code}: {error.Message}" : $"{job.Videos.Count(v => v.Sha256 is not null)} videos stored"));
        }
        // Stable within equal times: the order above (created, callbacks, events) is the causal one.
        return entries.Select((e, i) => (e, i)).OrderBy(x => x.e.At).ThenBy(x => x.i).Select(x => x.e).ToList();
    }
}

using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Api.Admin;

/// <summary>The admin API's records (VideoCallbacks.Contracts, shared with the CLI) made from what the stores hold.</summary>
public static class AdminViews
{
    public static AdminEvent ToAdminEvent(this StoredEvent e) =>
        new(e.EventId, e.Sequence, e.JobId, e.Provider, e.Type, e.PublishStatus, e.Attempts, e.LastError, e.Time, e.PublishedAt, e.NextAttemptAt, e.Client);

    public static AdminCallback ToAdminCallback(this StoredCallback c) => new(c.Id, c.Provider, c.JobId, c.ReceivedAt, c.Outcome, c.Reason, c.EventId);
}

using System.Text.Json.Serialization;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Submissions;

/// <summary>The one provider-neutral request. Unknown JSON properties are refused, not ignored.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ExtensionRequest
{
    public string? Provider { get; init; }
    public string? SourceTaskId { get; init; }
    /// <summary>0-based (0..3) for every provider; converted per provider.</summary>
    public int? Index { get; init; }
    public string? Prompt { get; init; }
    public string? Mode { get; init; }
    public string? Motion { get; init; }
    public string? ImageUrl { get; init; }
    public string? Watermark { get; init; }
    public string? Model { get; init; }
    public string? VideoUrl { get; init; }
    public string? CorrelationId { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
}

/// <summary>The public job shape (VideoCallbacks.Contracts.JobResponse) from a stored job and its events.</summary>
public static class JobResponses
{
    public static JobResponse From(Job job, IEnumerable<Events.StoredEvent> events) => new(
        job.JobId, job.Provider, job.ProviderTaskId, job.Status, job.Progress, job.VideoUrls, job.Error, job.CorrelationId,
        job.Metadata, job.CreatedAt, job.UpdatedAt, events.Select(e => new JobEventRef(e.EventId, e.Type, e.Time)).ToList())
    {
        Videos = job.Videos,
        Archive = job.Archive,
    };
}

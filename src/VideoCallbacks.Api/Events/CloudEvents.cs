using System.Text.Json;
using System.Text.Json.Serialization;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Events;

public static class EventTypes
{
    public const string Submitted = "video.extension.submitted";
    public const string Progress = "video.extension.progress";
    public const string Completed = "video.extension.completed";
    public const string Failed = "video.extension.failed";
    /// <summary>A completed job's videos were stored after all (an operator retried a failed archive).</summary>
    public const string Archived = "video.extension.archived";

    public static readonly string[] All = [Submitted, Progress, Completed, Failed, Archived];
}

/// <summary>The contract's event payload.</summary>
public sealed record ExtensionEventData(
    string JobId,
    string Provider,
    string? ProviderTaskId,
    string? SourceTaskId,
    int? Index,
    string Status,
    int Progress,
    IReadOnlyList<string> VideoUrls,
    JobError? Error,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The result videos: durable <c>url</c>, the provider's, SHA-256, size and type (empty before completion).</summary>
    public IReadOnlyList<JobVideo> Videos { get; init; } = [];

    /// <summary>Null until the provider reported the videos.</summary>
    public JobArchive? Archive { get; init; }

    public static ExtensionEventData From(Job job) => new(
        job.JobId, job.Provider, job.ProviderTaskId, job.SourceTaskId, job.Index, job.Status, job.Progress,
        job.VideoUrls, job.Error, job.CorrelationId, job.Metadata)
    {
        Videos = job.Videos,
        Archive = job.Archive,
    };
}

/// <summary>An outbox row that is about to be written.</summary>
public sealed record NewEvent(string EventId, string Type, string JobId, string Provider, string JobStatus, string? CorrelationId, DateTimeOffset Time, string DataJson)
{
    /// <summary>W3C trace context of the request that caused the event, so a subscriber's trace continues it.</summary>
    public string? TraceParent { get; init; } = System.Diagnostics.Activity.Current?.Id;

    /// <summary>The job's tenant: the feed shows the event only to it (and admins); Service Bus carries it as <c>client</c>.</summary>
    public string Client { get; init; } = Security.AuthOptions.DefaultClient;

    /// <summary>Ids are derived from job and state, so a repeated report can never mint a second event.</summary>
    public static NewEvent For(Job job, DateTimeOffset time)
    {
        var (type, id) = job.Status switch
        {
            JobStatuses.Submitted => (EventTypes.Submitted, $"{job.JobId}:submitted"),
            JobStatuses.Processing => (EventTypes.Progress, $"{job.JobId}:progress:{job.Progress}"),
            JobStatuses.Completed => (EventTypes.Completed, $"{job.JobId}:completed"),
            JobStatuses.Failed => (EventTypes.Failed, $"{job.JobId}:failed"),
            _ => throw new InvalidOperationException($"No event for status '{job.Status}'."),
        };
        var data = JsonSerializer.Serialize(ExtensionEventData.From(job), EventJson.Options);
        return new NewEvent(id, type, job.JobId, job.Provider, job.Status, job.CorrelationId, time, data) { Client = job.Client };
    }

    /// <summary>A completed job's late archive: once per job, since a job is archived once.</summary>
    public static NewEvent Archived(Job job, DateTimeOffset time)
    {
        var data = JsonSerializer.Serialize(ExtensionEventData.From(job), EventJson.Options);
        return new NewEvent($"{job.JobId}:archived", EventTypes.Archived, job.JobId, job.Provider, job.Status, job.CorrelationId, time, data) { Client = job.Client };
    }
}

/// <summary>An outbox row as stored.</summary>
public sealed record StoredEvent
{
    public required long Sequence { get; init; }
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public required string JobId { get; init; }
    public string Client { get; init; } = Security.AuthOptions.DefaultClient;
    public required string Provider { get; init; }
    public required string JobStatus { get; init; }
    public string? CorrelationId { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string DataJson { get; init; }
    public required string PublishStatus { get; init; }
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? PublishedAt { get; init; }

    /// <summary>W3C trace context (<c>traceparent</c>) of the request that caused the event, when there was one.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The CloudEvent 1.0 structured-mode JSON of this event.</summary>
    public string ToCloudEventJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("specversion", "1.0");
            w.WriteString("id", EventId);
            w.WriteString("source", $"/providers/{Provider}");
            w.WriteString("type", Type);
            w.WriteString("subject", JobId);
            w.WriteString("time", Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("datacontenttype", "application/json");
            w.WriteNumber("sequence", Sequence);
            w.WritePropertyName("data");
            w.WriteRawValue(DataJson, skipInputValidation: true);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public JsonElement ToCloudEvent() => JsonElement.Parse(ToCloudEventJson());
}

public static class PublishStatuses
{
    public const string Pending = "pending";
    public const string Published = "published";
    public const string Failed = "failed";
}

public static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

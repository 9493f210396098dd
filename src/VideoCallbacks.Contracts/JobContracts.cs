using System.Text.Json.Serialization;

namespace VideoCallbacks.Contracts;

public sealed record JobError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

public sealed record JobEventRef(string Id, string Type, DateTimeOffset Time);

/// <summary>The public job shape (<c>GET /v1/extensions/{jobId}</c>). Tokens and secrets never appear here.</summary>
public sealed record JobResponse(
    string JobId,
    string Provider,
    string? ProviderTaskId,
    string Status,
    int Progress,
    IReadOnlyList<string> VideoUrls,
    JobError? Error,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<JobEventRef> Events);

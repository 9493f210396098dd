using System.Text.Json.Serialization;

namespace VideoCallbacks.Contracts;

public sealed record JobError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

public sealed record JobEventRef(string Id, string Type, DateTimeOffset Time);

/// <summary>
/// One result video: <c>Url</c> is the durable copy this service keeps (the provider's URL when archiving is off or
/// gave up); <c>Sha256</c>, <c>Bytes</c> and <c>ContentType</c> are known once it is stored.
/// </summary>
public sealed record JobVideo(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("providerUrl")] string ProviderUrl,
    [property: JsonPropertyName("sha256")] string? Sha256 = null,
    [property: JsonPropertyName("bytes")] long? Bytes = null,
    [property: JsonPropertyName("contentType")] string? ContentType = null);

/// <summary>Where copying the videos stands: <c>pending</c>, <c>archived</c>, <c>failed</c> (with the reason) or <c>off</c>.</summary>
public sealed record JobArchive(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("error")] JobError? Error = null);

/// <summary>A job whose archive failed, for operators (<c>GET /v1/admin/archives</c>).</summary>
public sealed record AdminArchive(string JobId, string Provider, string Client, string Status, JobError? Error, int Attempts,
    IReadOnlyList<JobVideo> Videos, DateTimeOffset UpdatedAt);

public sealed record ArchiveRetryResult(string JobId, string Status);

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
    IReadOnlyList<JobEventRef> Events)
{
    /// <summary>The result videos (empty until the provider reports them).</summary>
    public IReadOnlyList<JobVideo> Videos { get; init; } = [];

    /// <summary>Null until the provider reports the videos.</summary>
    public JobArchive? Archive { get; init; }
}

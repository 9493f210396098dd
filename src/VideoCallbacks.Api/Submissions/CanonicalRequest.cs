using System.Text.Json;

namespace VideoCallbacks.Api.Submissions;

/// <summary>
/// The request as compared for idempotency and stored: the record's own field order, and metadata sorted by key, so
/// <c>{"a":"1","b":"2"}</c> and <c>{"b":"2","a":"1"}</c> are one body (JSON objects are unordered).
/// </summary>
public static class CanonicalRequest
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Json(ExtensionRequest request) => JsonSerializer.Serialize(
        request.Metadata is null ? request : request with { Metadata = new Dictionary<string, string>(request.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) },
        Options);
}

using System.Text.Json;

namespace VideoCallbacks.Cli;

/// <summary>A typed result plus the exact JSON text the service answered (for <c>--json</c>).</summary>
public sealed record ApiResponse<T>(T Value, string RawJson);

// The service's own records (AdminEvent, Page<T>, ReplayFilter, BulkReplayResult, JobResponse, ...) come from
// VideoCallbacks.Contracts; what is here is the CLI's own: queries it builds and the problem shape it reads.

public sealed record EventQuery(
    string? Status = null,
    string? Provider = null,
    string? Type = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Limit = null,
    string? Cursor = null,
    string? Client = null);

public sealed record CallbackQuery(
    string? Outcome = null,
    string? Provider = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Limit = null,
    string? Cursor = null);

/// <summary>RFC 9457 problem details.</summary>
public sealed record ProblemDetails(
    string? Type,
    string? Title,
    int? Status,
    string? Detail,
    IReadOnlyDictionary<string, string[]>? Errors);

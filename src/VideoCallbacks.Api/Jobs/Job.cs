using System.Text.Json.Serialization;

namespace VideoCallbacks.Api.Jobs;

public static class JobStatuses
{
    public const string Submitted = "submitted";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";

    public static bool IsTerminal(string status) => status is Completed or Failed;
}

/// <summary>Where the provider submission stands; internal, never part of the public job shape.</summary>
public static class ArchiveStatuses
{
    public const string Pending = "pending";
    public const string Archived = "archived";
    public const string Failed = "failed";
    public const string Off = "off";
    /// <summary>Stored, then deleted by <c>Archive:Retention</c>.</summary>
    public const string Expired = "expired";
}

public static class SubmissionStates
{
    /// <summary>Row written, provider not yet answered.</summary>
    public const string Pending = "pending";
    public const string Accepted = "accepted";
    /// <summary>The provider refused; nothing was created there.</summary>
    public const string Rejected = "rejected";
    /// <summary>The provider may or may not have the task (timeout); a callback can still bind it.</summary>
    public const string Unknown = "unknown";
}

/// <summary>A job as stored. Secrets appear only as hashes.</summary>
public sealed record Job
{
    public required string JobId { get; init; }
    /// <summary>The tenant that submitted it (a named client, or <c>default</c>); only it and admins read the job.</summary>
    public string Client { get; init; } = Security.AuthOptions.DefaultClient;
    public required string Provider { get; init; }
    public string? ProviderTaskId { get; init; }
    public required string Status { get; init; }
    public required string Submission { get; init; }
    public int Progress { get; init; }
    public IReadOnlyList<string> VideoUrls { get; init; } = [];
    public JobError? Error { get; init; }
    public string? CorrelationId { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public string? SourceTaskId { get; init; }
    public int? Index { get; init; }
    public required string RequestJson { get; init; }
    public required string TokenHash { get; init; }
    public string? SecretHash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>When the poller/reconciler should next ask the provider about this job.</summary>
    public DateTimeOffset? NextCheckAt { get; init; }
    public int CheckAttempts { get; init; }
    /// <summary>The result videos, the provider's URLs and, once stored, our copies.</summary>
    public IReadOnlyList<JobVideo> Videos { get; init; } = [];
    /// <summary>Null until the provider reports the videos.</summary>
    public JobArchive? Archive { get; init; }
    /// <summary>When the archive worker should next try to copy the videos (pending archives only).</summary>
    public DateTimeOffset? ArchiveNextAt { get; init; }

    public bool IsTerminal => JobStatuses.IsTerminal(Status);

    /// <summary>The provider has finished with it and its videos are being copied: nothing a provider says changes it now.</summary>
    public bool IsArchiving => Archive?.Status == ArchiveStatuses.Pending && Status == JobStatuses.Processing;
}

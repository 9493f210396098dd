namespace VideoCallbacks.Tests.Storage;

/// <summary>Builders for rows the store tests write.</summary>
public static class StoreData
{
    public static string NewJobId() => "job_" + Guid.NewGuid().ToString("N");

    /// <summary>A job as the submission path writes it: submitted, not yet answered by the provider.</summary>
    public static Job PendingJob(DateTimeOffset now, string provider = KieProvider.Name, string? correlationId = null) => new()
    {
        JobId = NewJobId(),
        Provider = provider,
        Status = JobStatuses.Submitted,
        Submission = SubmissionStates.Pending,
        CorrelationId = correlationId,
        Metadata = new Dictionary<string, string> { ["order"] = "42" },
        SourceTaskId = "src-" + Guid.NewGuid().ToString("N")[..8],
        Index = 1,
        RequestJson = """{"provider":"kie"}""",
        TokenHash = new string('a', 64),
        SecretHash = null,
        CreatedAt = now,
        UpdatedAt = now,
        NextCheckAt = now + TimeSpan.FromDays(1),
    };

    public static RawCallback Raw(DateTimeOffset at, string body = """{"code":200}""") => new("""{"content-type":"application/json"}""", body, at);

    public static IngestItem Item(Job job, string? taskId, ProviderObservation? observation, DateTimeOffset at, string? provider = null) =>
        new(provider ?? job.Provider, job.JobId, taskId, observation, Raw(at));

    public static ProviderObservation Completed(params string[] urls) =>
        ProviderObservation.Completed(urls.Length == 0 ? ["https://cdn.example.com/0.mp4"] : urls);
}

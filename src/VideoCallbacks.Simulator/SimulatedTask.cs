namespace VideoCallbacks.Simulator;

public enum SimulatedTaskStatus
{
    Queued,
    Processing,
    Completed,
    Failed,
}

/// <summary>
/// A job accepted by one of the simulated providers. Submission facts are immutable; the
/// progress fields move forward only, and a terminal status is sticky.
/// </summary>
public sealed class SimulatedTask
{
    private readonly Lock gate = new();
    private SimulatedTaskStatus status;
    private int? percentage;
    private string? error;
    private DateTimeOffset? completedAt;
    private int statusPolls;
    private volatile OutgoingCallback? lastCallback;

    internal SimulatedTask(
        string provider,
        string taskId,
        string taskType,
        string sourceTaskId,
        int? index,
        string? prompt,
        string? model,
        string? callbackUrl,
        string? webhookSecret,
        string requestBody,
        Directives directives,
        IReadOnlyList<string> plannedResultUrls,
        SimulatedTaskStatus initialStatus,
        DateTimeOffset createdAt)
    {
        Provider = provider;
        TaskId = taskId;
        TaskType = taskType;
        SourceTaskId = sourceTaskId;
        Index = index;
        Prompt = prompt;
        Model = model;
        CallbackUrl = callbackUrl;
        WebhookSecret = webhookSecret;
        RequestBody = requestBody;
        DirectiveSet = directives;
        PlannedResultUrls = plannedResultUrls;
        status = initialStatus;
        CreatedAt = createdAt;
    }

    /// <summary><c>kie</c>, <c>apiframe</c> or <c>nanogpt</c>.</summary>
    public string Provider { get; }

    /// <summary>The id the simulator handed back (Kie <c>taskId</c>, Apiframe <c>task_id</c>, NanoGPT <c>runId</c>).</summary>
    public string TaskId { get; }

    /// <summary>Kie <c>taskType</c>; <c>imagine-video-extend</c>; NanoGPT <c>extend</c> or <c>generate-video</c>.</summary>
    public string TaskType { get; }

    /// <summary>The source field exactly as submitted, directives included (for NanoGPT generate-video: empty).</summary>
    public string SourceTaskId { get; }

    /// <summary>The index exactly as the provider numbers it (Apiframe 1..4, others 0..3).</summary>
    public int? Index { get; }

    public string? Prompt { get; }

    public string? Model { get; }

    /// <summary>Kie <c>callBackUrl</c> or Apiframe <c>webhook_url</c>.</summary>
    public string? CallbackUrl { get; }

    public string? WebhookSecret { get; }

    /// <summary>The submission body as received.</summary>
    public string RequestBody { get; }

    public IReadOnlyDictionary<string, string> Directives => DirectiveSet.Values;

    public DateTimeOffset CreatedAt { get; }

    public SimulatedTaskStatus Status
    {
        get { lock (gate) { return status; } }
    }

    public int? Percentage
    {
        get { lock (gate) { return percentage; } }
    }

    /// <summary>Result URLs once completed, else empty.</summary>
    public IReadOnlyList<string> ResultUrls => Status == SimulatedTaskStatus.Completed ? PlannedResultUrls : [];

    public string? Error
    {
        get { lock (gate) { return error; } }
    }

    public DateTimeOffset? CompletedAt
    {
        get { lock (gate) { return completedAt; } }
    }

    /// <summary>How many times a status endpoint was asked about this task (NanoGPT advances one step per call).</summary>
    public int StatusPolls => Volatile.Read(ref statusPolls);

    /// <summary>The failure message used when a <c>~fail</c> directive names none.</summary>
    internal const string DefaultFailure = "Video extension failed (simulated)";

    /// <summary>
    /// Ends the task as its directives say (failed with <c>~fail</c>, else completed). Answers false for
    /// <c>~never</c> (the task stays running) and whether it failed.
    /// </summary>
    internal (bool Finished, bool Failed) Finish(DateTimeOffset now)
    {
        if (DirectiveSet.Has("never")) return (false, false);
        var failed = DirectiveSet.Has("fail");
        Advance(failed ? SimulatedTaskStatus.Failed : SimulatedTaskStatus.Completed, 100, now,
            failed ? DirectiveSet.ValueOr("fail", DefaultFailure) : null);
        return (true, failed);
    }

    internal Directives DirectiveSet { get; }

    internal IReadOnlyList<string> PlannedResultUrls { get; }

    internal bool IsTerminal => Status is SimulatedTaskStatus.Completed or SimulatedTaskStatus.Failed;

    /// <summary>The most recent callback sent (or, under <c>~nocallback</c>, the one that would have been), for the resend endpoint.</summary>
    internal OutgoingCallback? LastCallback
    {
        get => lastCallback;
        set => lastCallback = value;
    }

    internal int NextStatusPoll() => Interlocked.Increment(ref statusPolls);

    /// <summary>Moves the task forward; ignored once terminal so late events never downgrade it.</summary>
    internal void Advance(SimulatedTaskStatus next, int? nextPercentage, DateTimeOffset now, string? failure = null)
    {
        lock (gate)
        {
            if (status is SimulatedTaskStatus.Completed or SimulatedTaskStatus.Failed)
            {
                return;
            }

            status = next;
            percentage = nextPercentage ?? percentage;
            if (next is SimulatedTaskStatus.Completed or SimulatedTaskStatus.Failed)
            {
                error = failure;
                completedAt = now;
            }
        }
    }
}

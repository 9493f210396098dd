using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>What happens to one callback or poll answer of a batch.</summary>
public sealed record IngestDecision(string? JobId, string Outcome, string? Reason, string? EventId)
{
    /// <summary>For a reprocessed callback: whether its stored row takes this outcome (see <see cref="IngestPlan.Settle"/>).</summary>
    public bool RewritesStoredCallback { get; init; }
}

/// <summary>
/// The ingest decisions, free of SQL: given a batch and its jobs as read (under lock), which callback
/// rows to record with which outcome, which jobs change and which events to write. Items of one job
/// see the changes of the items before them, so a batch decides exactly as the same callbacks would
/// one at a time.
/// </summary>
public sealed class IngestPlan
{
    private readonly IngestDecision[] _decisions;
    private readonly IReadOnlyList<IngestItem> _items;
    private readonly IReadOnlyDictionary<long, string> _storedOutcomes;

    private IngestPlan(IngestDecision[] decisions, IReadOnlyList<IngestItem> items, IReadOnlyDictionary<long, string> storedOutcomes,
        IReadOnlyList<Job> changedJobs, IReadOnlyList<NewEvent> events)
    {
        _decisions = decisions;
        _items = items;
        _storedOutcomes = storedOutcomes;
        ChangedJobs = changedJobs;
        Events = events;
    }

    /// <summary>One decision per item, in the batch's order.</summary>
    public IReadOnlyList<IngestDecision> Decisions => _decisions;

    /// <summary>Each changed job once, in its final state for this batch.</summary>
    public IReadOnlyList<Job> ChangedJobs { get; }

    /// <summary>Events to write, in the order they happened.</summary>
    public IReadOnlyList<NewEvent> Events { get; }

    /// <param name="taskOwners">
    /// For task ids this batch would bind to still-unbound jobs: the job that already owns each (see
    /// <see cref="TaskIdsToCheck"/>). A task id belongs to one job only.
    /// </param>
    /// <param name="storedOutcomes">For reprocessed callbacks (<see cref="IngestItem.ReprocessCallbackId"/>): their outcome as stored.</param>
    /// <param name="archiveVideos">Whether completions wait for the archive stage (see <see cref="JobStateMachine.Apply"/>).</param>
    public static IngestPlan Decide(IReadOnlyList<IngestItem> items, IReadOnlyDictionary<string, Job> jobsAsRead, DateTimeOffset now,
        IReadOnlyDictionary<(string Provider, string TaskId), string>? taskOwners = null, IReadOnlyDictionary<long, string>? storedOutcomes = null,
        bool archiveVideos = false)
    {
        var jobs = new Dictionary<string, Job>(jobsAsRead, StringComparer.Ordinal);
        var owners = new Dictionary<(string Provider, string TaskId), string>(taskOwners ?? new Dictionary<(string, string), string>());
        var changed = new Dictionary<string, Job>(StringComparer.Ordinal);
        var events = new List<NewEvent>();
        var decisions = new IngestDecision[items.Count];

        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!jobs.TryGetValue(item.JobId, out var job) || job.Provider != item.Provider)
            {
                decisions[i] = new IngestDecision(null, CallbackOutcomes.Unmatched, "no such job for this provider", null);
                continue;
            }
            if (job.Submission == SubmissionStates.Rejected)
            {
                // The provider refused the submission (or its task belongs to another job): nothing there can call back,
                // so whoever does holds a leaked URL, not a task.
                decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Rejected, "the job's submission was refused; it takes no callbacks", null);
                continue;
            }
            switch (TaskIdRule.Compare(job.ProviderTaskId, item.ProviderTaskId))
            {
                case TaskIdMatch.Binds:
                    var taskId = item.ProviderTaskId!;
                    if (owners.TryGetValue((job.Provider, taskId), out var owner) && TaskIdRule.OwnedByAnother(job.JobId, owner))
                    {
                        decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Rejected, $"task id belongs to job {owner}", null);
                        continue;
                    }
                    owners[(job.Provider, taskId)] = job.JobId;
                    // The callback raced the provider's answer to our submit: bind the task here.
                    var (bound, submitted) = JobStateMachine.Bind(job, taskId, job.NextCheckAt, now);
                    job = changed[job.JobId] = jobs[job.JobId] = bound;
                    if (submitted is not null) events.Add(WithTrace(submitted, item));
                    break;
                case TaskIdMatch.Different:
                    decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Rejected, "task id does not match the job", null);
                    continue;
            }
            if (item.Observation is null)
            {
                decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Failed, item.Problem ?? "body not understood", null);
                continue;
            }
            var transition = JobStateMachine.Apply(job, item.Observation, now, archiveVideos);
            switch (transition.Kind)
            {
                case TransitionKind.Advanced:
                    changed[job.JobId] = jobs[job.JobId] = transition.Job;
                    events.Add(WithTrace(transition.Event!, item));
                    decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Accepted, null, transition.Event!.EventId);
                    break;
                case TransitionKind.Anomaly:
                    decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Duplicate, "anomaly: " + transition.Note, null);
                    break;
                default:
                    decisions[i] = new IngestDecision(job.JobId, CallbackOutcomes.Duplicate, transition.Note, null);
                    break;
            }
        }
        return new IngestPlan(decisions, items, storedOutcomes ?? new Dictionary<long, string>(), changed.Values.ToList(), events);
    }

    /// <summary>
    /// Group commit decides on the writer's thread, so an event takes the trace of the request whose callback made it
    /// (captured in <see cref="IngestItem.TraceParent"/>), not the writer's.
    /// </summary>
    private static NewEvent WithTrace(NewEvent e, IngestItem item) => item.TraceParent is null ? e : e with { TraceParent = item.TraceParent };

    /// <summary>The task ids, per provider, that this batch would bind to jobs that have none yet: their owners must be read first.</summary>
    public static IEnumerable<IGrouping<string, string>> TaskIdsToCheck(IReadOnlyList<IngestItem> items, IReadOnlyDictionary<string, Job> jobsAsRead) =>
        items.Where(i => i.ProviderTaskId is { Length: > 0 } && jobsAsRead.TryGetValue(i.JobId, out var j) && j.ProviderTaskId is null)
            .GroupBy(i => i.Provider, i => i.ProviderTaskId!, StringComparer.Ordinal);

    /// <summary>The callbacks being reprocessed in <paramref name="items"/>, whose stored outcomes must be read first.</summary>
    public static IReadOnlyList<long> ReprocessedCallbacks(IReadOnlyList<IngestItem> items) =>
        items.Where(i => i.ReprocessCallbackId is not null).Select(i => i.ReprocessCallbackId!.Value).Distinct().ToList();

    /// <summary>
    /// After the events were written: a callback whose event the database already had (written earlier, or by
    /// another instance) is a duplicate after all, since the unique event id is what decides. A reprocessed callback
    /// keeps its history unless the rerun changed something: a failed one takes its new outcome, any becomes accepted,
    /// and an accepted callback that now reads as a duplicate of itself stays accepted.
    /// </summary>
    public IReadOnlyList<IngestDecision> Settle(IReadOnlySet<string> insertedEventIds)
    {
        var settled = (IngestDecision[])_decisions.Clone();
        for (var i = 0; i < settled.Length; i++)
        {
            if (settled[i].EventId is { } id && !insertedEventIds.Contains(id))
            {
                settled[i] = settled[i] with { Outcome = CallbackOutcomes.Duplicate, Reason = "event already exists" };
            }
            if (_items[i].ReprocessCallbackId is { } callbackId)
            {
                var stored = _storedOutcomes.GetValueOrDefault(callbackId);
                settled[i] = settled[i] with { RewritesStoredCallback = stored == CallbackOutcomes.Failed || settled[i].Outcome == CallbackOutcomes.Accepted };
            }
        }
        return settled;
    }
}

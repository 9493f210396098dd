using System.Collections.Concurrent;

namespace VideoCallbacks.Simulator;

/// <summary>One request received on a provider endpoint.</summary>
/// <param name="Path">Path including the query string.</param>
public sealed record RecordedRequest(
    string Provider,
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    DateTimeOffset At);

/// <summary>One callback POST attempt; <paramref name="StatusCode"/> is null when the request failed (timeout, refused connection).</summary>
public sealed record RecordedCallback(
    string Provider,
    string TaskId,
    string Url,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    int? StatusCode,
    DateTimeOffset At);

/// <summary>Everything the simulator has seen and done, in memory. Thread-safe.</summary>
public sealed class SimulatorState
{
    // Sandbox mode runs for as long as the service does: keep the recordings bounded.
    private const int MaxRecordings = 10_000;

    private readonly ConcurrentDictionary<string, SimulatedTask> tasks = new(StringComparer.Ordinal);
    private readonly RecordLog<RecordedRequest> requests = new(MaxRecordings);
    private readonly RecordLog<RecordedCallback> callbacks = new(MaxRecordings);

    /// <summary>Snapshot of the requests received on provider endpoints, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => requests.Snapshot();

    /// <summary>Snapshot of the callback POSTs made, oldest first, each with the status code it got back.</summary>
    public IReadOnlyList<RecordedCallback> Callbacks => callbacks.Snapshot();

    /// <summary>Snapshot of every task accepted so far.</summary>
    public IReadOnlyCollection<SimulatedTask> Tasks => tasks.Values.ToArray();

    public SimulatedTask? FindTask(string providerTaskId) =>
        tasks.TryGetValue(providerTaskId, out var task) ? task : null;

    internal void Add(SimulatedTask task)
    {
        if (!tasks.TryAdd(task.TaskId, task))
        {
            throw new InvalidOperationException($"Duplicate simulated task id {task.TaskId}.");
        }
    }

    internal void Record(RecordedRequest request) => requests.Add(request);

    internal void Record(RecordedCallback callback) => callbacks.Add(callback);

    private sealed class RecordLog<T>(int capacity)
    {
        private readonly Lock gate = new();
        private readonly Queue<T> items = new();

        public void Add(T item)
        {
            lock (gate)
            {
                items.Enqueue(item);
                while (items.Count > capacity)
                {
                    items.Dequeue();
                }
            }
        }

        public T[] Snapshot()
        {
            lock (gate)
            {
                return [.. items];
            }
        }
    }
}

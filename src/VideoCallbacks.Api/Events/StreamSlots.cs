using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Events;

/// <summary>
/// Open event streams per client (Events:MaxStreamsPerClient), so one key cannot hold thousands of connections.
/// Counted per instance: a deployment of N instances allows up to N times the cap, which bounds each instance's cost.
/// </summary>
public sealed class StreamSlots(IOptions<EventFeedOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Limit => options.Value.MaxStreamsPerClient;

    /// <summary>A slot for <paramref name="owner"/> (dispose it when the stream ends), or null when it holds the maximum.</summary>
    public IDisposable? TryTake(string owner)
    {
        while (true)
        {
            var open = _open.GetOrAdd(owner, 0);
            if (open >= Limit) return null;
            if (_open.TryUpdate(owner, open + 1, open)) return new Slot(this, owner);
        }
    }

    private void Release(string owner) => _open.AddOrUpdate(owner, 0, (_, n) => Math.Max(0, n - 1));

    private sealed class Slot(StreamSlots owner, string key) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release(key);
        }
    }
}

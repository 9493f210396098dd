using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>What the hostile requests were answered, by endpoint and status; 5xx and odd transport failures kept as samples.</summary>
public sealed class Traffic
{
    /// <summary>Pseudo status of an event stream that was accepted and held open with nothing to send yet.</summary>
    public const int OpenStream = 0;

    private readonly ConcurrentDictionary<(string Endpoint, int Status), int> _answers = new();
    private readonly ConcurrentDictionary<string, int> _refused = new();
    private int _sent;
    private int _clientRefused;
    private int _oversizedResets;

    public int Sent => Volatile.Read(ref _sent);

    public int ClientRefused => Volatile.Read(ref _clientRefused);

    public int OversizedResets => Volatile.Read(ref _oversizedResets);

    public ConcurrentQueue<string> ServerErrors { get; } = new();

    public ConcurrentQueue<string> Unexpected { get; } = new();

    public int Success => _answers.Where(a => a.Key.Status is >= 200 and < 300 or OpenStream).Sum(a => a.Value);

    public int Status(int status) => _answers.Where(a => a.Key.Status == status).Sum(a => a.Value);

    public void Record(HostileRequest request, int status, string? body)
    {
        Interlocked.Increment(ref _sent);
        _answers.AddOrUpdate((request.Endpoint, status), 1, (_, n) => n + 1);
        if (status >= 500) ServerErrors.Enqueue($"{status} {Describe(request)}: {Cut(body ?? "", 300)}");
    }

    /// <summary>The client would not send it (e.g. a newline in a header value): not counted as sent.</summary>
    public void Refused(HostileRequest request, Exception e)
    {
        Interlocked.Increment(ref _clientRefused);
        _refused.AddOrUpdate(request.Category + ": " + Cut(e.Message, 80), 1, (_, n) => n + 1);
    }

    /// <summary>
    /// Sent, but the connection broke. Kestrel answers 413 and closes the connection while a body over its limit is
    /// still being sent, so for oversized bodies that is the expected ending; anywhere else it is a failure.
    /// </summary>
    public void TransportError(HostileRequest request, Exception e)
    {
        Interlocked.Increment(ref _sent);
        _answers.AddOrUpdate((request.Endpoint, -1), 1, (_, n) => n + 1);
        if (request.Category.Contains("oversized", StringComparison.Ordinal) || request.Category.Contains("huge-string", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _oversizedResets);
        }
        else
        {
            Unexpected.Enqueue($"{Describe(request)}: {e.GetType().Name} {Cut(e.Message, 60)} ({e.InnerException?.GetType().Name} {Cut(e.InnerException?.Message ?? "", 120)})");
        }
    }

    /// <summary>One line for the report: how many answers of each class.</summary>
    public string Summary()
    {
        int Count(Func<int, bool> f) => _answers.Where(a => f(a.Key.Status)).Sum(a => a.Value);
        return string.Create(CultureInfo.InvariantCulture,
            $"2xx {Count(s => s is >= 200 and < 300):N0}, open streams {Count(s => s == OpenStream):N0}, 4xx {Count(s => s is >= 400 and < 500):N0} " +
            $"(401 {Status(401):N0}, 404 {Status(404):N0}, 413 {Status(413):N0}, 429 {Status(429):N0}), 5xx {Count(s => s >= 500):N0}, connection cut {Count(s => s < 0):N0}");
    }

    /// <summary>The whole breakdown, for the console.</summary>
    public string Describe()
    {
        var text = new StringBuilder("hostile requests by endpoint and status:\n");
        foreach (var endpoint in _answers.Keys.Select(k => k.Endpoint).Distinct().Order(StringComparer.Ordinal))
        {
            var row = _answers.Where(a => a.Key.Endpoint == endpoint).OrderBy(a => a.Key.Status).Select(a => $"{(a.Key.Status == -1 ? "cut" : a.Key.Status)}:{a.Value}");
            text.Append(CultureInfo.InvariantCulture, $"  {endpoint,-18} {string.Join(' ', row)}\n");
        }
        foreach (var (why, n) in _refused) text.Append(CultureInfo.InvariantCulture, $"  not sent x{n}: {why}\n");
        foreach (var e in ServerErrors.Take(20)) text.Append("  5xx: ").Append(e).Append('\n');
        foreach (var e in Unexpected.Take(20)) text.Append("  transport: ").Append(e).Append('\n');
        return text.ToString();
    }

    private static string Describe(HostileRequest r) => $"{r.Endpoint}/{r.Category} {r.Method} {Cut(r.Path, 120)}";

    private static string Cut(string s, int max) => (s.Length <= max ? s : s[..max] + "...").ReplaceLineEndings(" ");
}

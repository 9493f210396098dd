using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>A message the fake broker accepted, as the broker keeps it.</summary>
/// <param name="BrokerProperties">Only the broker properties the REST docs accept (string values as sent, others as raw JSON).</param>
/// <param name="IgnoredBrokerProperties">Broker properties that were sent but are not in the documented list (the broker ignores them).</param>
public sealed record FakeServiceBusMessage(
    string Topic,
    string Body,
    string? ContentType,
    IReadOnlyDictionary<string, string> BrokerProperties,
    IReadOnlyDictionary<string, string> IgnoredBrokerProperties,
    IReadOnlyDictionary<string, string> UserProperties,
    bool ViaBatch)
{
    public string? MessageId => BrokerProperties.GetValueOrDefault("MessageId");
}

/// <summary>One request as the fake saw it, accepted or not.</summary>
public sealed record FakeServiceBusRequest(
    string Method,
    string Path,
    string? ContentType,
    string? Authorization,
    long BodyBytes,
    int StatusCode,
    IReadOnlyList<string> MessageIds,
    string? Error);

/// <summary>A misbehaviour to inject: an error status, a slow answer, or a dropped connection.</summary>
public sealed record FakeServiceBusFault(int? StatusCode = null, TimeSpan? Delay = null, bool AbortConnection = false, string? Detail = null)
{
    public static FakeServiceBusFault Abort { get; } = new(AbortConnection: true);

    public static FakeServiceBusFault Status(int statusCode, string? detail = null) => new(StatusCode: statusCode, Detail: detail);

    /// <summary>Answers normally, but only after <paramref name="delay"/> (or when the client gives up).</summary>
    public static FakeServiceBusFault Slow(TimeSpan delay) => new(Delay: delay);
}

public sealed class FakeServiceBusOptions
{
    public string KeyName { get; set; } = "RootManageSharedAccessKey";

    /// <summary>Defaults to a fresh random 256-bit Base64 key, like a real namespace.</summary>
    public string Key { get; set; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public ICollection<string> Topics { get; } = new List<string> { "video-extensions" };

    public int MaxMessageBytes { get; set; } = 256 * 1024;

    public int MaxBatchBytes { get; set; } = 256 * 1024;

    /// <summary>The REST docs answer "message too large" with 403; some gateways use 413.</summary>
    public int SizeLimitStatusCode { get; set; } = 403;

    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Clock for SAS expiry and the duplicate-detection window.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Called with each MessageId as it is accepted (benchmarks measure end-to-end latency with it).</summary>
    public Action<string>? OnAccepted { get; set; }
}

/// <summary>
/// A Service Bus REST data plane on <c>http://127.0.0.1:&lt;free port&gt;</c>: <c>POST /{topic}/messages</c>, single
/// ("Send Message") and batch ("Send Message Batch"), with SAS or bearer authorization, the size limits, duplicate
/// detection on MessageId, and fault injection. Each instance has its own state.
/// </summary>
public sealed class FakeServiceBusServer : IAsyncDisposable
{
    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    /// <summary>Broker properties listed as accepted by "Message headers and properties"; the rest are ignored.</summary>
    private static readonly HashSet<string> AcceptedBrokerProperties = new(StringComparer.Ordinal)
    {
        "CorrelationId", "ForcePersistence", "Label", "MessageId", "PartitionKey", "ReplyTo", "ReplyToSessionId",
        "ScheduledEnqueueTimeUtc", "SessionId", "TimeToLive", "TimeToLiveTimeSpan", "To", "ViaPartitionKey",
    };

    /// <summary>Request headers that are HTTP plumbing, not custom message properties.</summary>
    private static readonly HashSet<string> NotCustomProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Authorization", "BrokerProperties", "x-ms-retrypolicy", "Expect",
        "Connection", "Accept", "Accept-Encoding", "User-Agent", "Transfer-Encoding", "traceparent", "tracestate",
        "Request-Id", "Correlation-Context", "baggage",
    };

    private readonly FakeServiceBusOptions _options;
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<FakeServiceBusMessage> _messages = [];
    private readonly List<FakeServiceBusRequest> _requests = [];
    private readonly Dictionary<(string Topic, string MessageId), DateTimeOffset> _seen = [];
    private readonly HashSet<string> _bearerTokens = new(StringComparer.Ordinal);
    private readonly Queue<(FakeServiceBusFault Fault, int Remaining)> _faults = new();
    private FakeServiceBusFault? _stickyFault;
    private int _duplicatesDropped;
    private bool _stopped;

    private FakeServiceBusServer(FakeServiceBusOptions options, WebApplication app)
    {
        _options = options;
        _app = app;
    }

    /// <summary><c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public string KeyName => _options.KeyName;

    public string Key => _options.Key;

    /// <summary>What the service under test should be configured with.</summary>
    public string ConnectionString => ConnectionStringWithKey(_options.Key);

    public int DuplicatesDropped
    {
        get
        {
            lock (_gate)
            {
                return _duplicatesDropped;
            }
        }
    }

    /// <summary>Every accepted message, in acceptance order.</summary>
    public IReadOnlyList<FakeServiceBusMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<FakeServiceBusRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeServiceBusServer> StartAsync(Action<FakeServiceBusOptions>? configure = null)
    {
        var options = new FakeServiceBusOptions();
        configure?.Invoke(options);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        var server = new FakeServiceBusServer(options, app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.Single().TrimEnd('/') + "/");
        return server;
    }

    public string ConnectionStringWithKey(string key) =>
        $"Endpoint={BaseAddress};SharedAccessKeyName={_options.KeyName};SharedAccessKey={key}";

    public void AcceptBearerToken(string token)
    {
        lock (_gate)
        {
            _bearerTokens.Add(token);
        }
    }

    /// <summary>The next <paramref name="times"/> requests misbehave (queued after faults already queued).</summary>
    public void FailNext(FakeServiceBusFault fault, int times = 1)
    {
        lock (_gate)
        {
            _faults.Enqueue((fault, times));
        }
    }

    /// <summary>Every request misbehaves until <see cref="ClearFaults"/>.</summary>
    public void FailUntilCleared(FakeServiceBusFault fault)
    {
        lock (_gate)
        {
            _stickyFault = fault;
        }
    }

    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
            _stickyFault = null;
        }
    }

    /// <summary>Closes the listening socket: from now on connections are refused.</summary>
    public async Task StopListeningAsync()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        await _stopping.CancelAsync();
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopListeningAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var contentType = request.ContentType;
        var authorization = request.Headers.Authorization.ToString();
        var fault = TakeFault();

        if (fault is { AbortConnection: true })
        {
            Log(request, authorization, 0, 0, [], "connection aborted (injected)");
            context.Abort();
            return;
        }

        if (fault is { Delay: { } delay })
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(delay, linked.Token);
            }
            catch (OperationCanceledException)
            {
                Log(request, authorization, 0, 499, [], "client gave up while the answer was delayed (injected)");
                return;
            }
        }

        if (fault is { StatusCode: { } injected })
        {
            await AnswerAsync(context, authorization, 0, [], injected, fault.Detail ?? "Injected fault.");
            return;
        }

        // Route: POST /{topic path}/messages
        var path = request.Path.Value ?? "/";
        const string suffix = "/messages";
        if (!path.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || path.Length <= suffix.Length + 1)
        {
            await AnswerAsync(context, authorization, 0, [], 404, "No such resource.");
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await AnswerAsync(context, authorization, 0, [], 405, "Only POST is supported here.");
            return;
        }

        var entityPath = Uri.UnescapeDataString(path[1..^suffix.Length]);
        var entityUri = $"{request.Scheme}://{request.Host}/{entityPath}";
        var authError = Authorize(authorization, entityUri);
        if (authError is not null)
        {
            await AnswerAsync(context, authorization, 0, [], 401, authError);
            return;
        }

        var topic = _options.Topics.FirstOrDefault(t => string.Equals(t, entityPath, StringComparison.OrdinalIgnoreCase));
        if (topic is null)
        {
            await AnswerAsync(context, authorization, 0, [], 404, $"The messaging entity '{entityUri}' could not be found.");
            return;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();

        var isBatch = MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && string.Equals(mediaType.MediaType, BatchContentType, StringComparison.OrdinalIgnoreCase)
            && mediaType.Parameters.Count == 0; // The docs: "without parameters such as charset=utf-8".

        var (messages, error, status) = isBatch ? ParseBatch(topic, body) : ParseSingle(topic, request, body);
        var ids = messages.Select(m => m.MessageId ?? string.Empty).ToList();
        if (error is not null)
        {
            await AnswerAsync(context, authorization, body.Length, ids, status, error);
            return;
        }

        lock (_gate)
        {
            var now = _options.TimeProvider.GetUtcNow();
            foreach (var message in messages)
            {
                if (message.MessageId is { } id)
                {
                    var key = (topic, id);
                    if (_seen.TryGetValue(key, out var at) && now - at < _options.DuplicateDetectionWindow)
                    {
                        // Duplicate detection: accepted (201), silently not enqueued again.
                        _duplicatesDropped++;
                        continue;
                    }

                    _seen[key] = now;
                }

                _messages.Add(message);
            }
        }
        foreach (var id in ids) _options.OnAccepted?.Invoke(id);

        await AnswerAsync(context, authorization, body.Length, ids, 201, null);
    }

    private FakeServiceBusFault? TakeFault()
    {
        lock (_gate)
        {
            if (_faults.TryPeek(out var head))
            {
                _faults.Dequeue();
                if (head.Remaining > 1)
                {
                    // Keep the fault at the head of the queue with one use less.
                    var rest = _faults.ToList();
                    _faults.Clear();
                    _faults.Enqueue((head.Fault, head.Remaining - 1));
                    rest.ForEach(_faults.Enqueue);
                }

                return head.Fault;
            }

            return _stickyFault;
        }
    }

    /// <summary>Checks a SAS token the way the broker does, or a bearer token against the accepted set.</summary>
    private string? Authorize(string authorization, string entityUri)
    {
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            lock (_gate)
            {
                return _bearerTokens.Contains(authorization["Bearer ".Length..]) ? null : "InvalidToken: the bearer token is not valid.";
            }
        }

        const string scheme = "SharedAccessSignature ";
        if (!authorization.StartsWith(scheme, StringComparison.Ordinal))
        {
            return "MissingToken: the request has no SharedAccessSignature or Bearer authorization.";
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in authorization[scheme.Length..].Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !fields.TryAdd(pair[..eq], pair[(eq + 1)..]))
            {
                return "MalformedToken: the token is not a list of distinct name=value fields.";
            }
        }

        if (!fields.TryGetValue("sr", out var rawResource) || !fields.TryGetValue("sig", out var rawSignature)
            || !fields.TryGetValue("se", out var rawExpiry) || !fields.TryGetValue("skn", out var keyName))
        {
            return "MalformedToken: sr, sig, se and skn are all required.";
        }

        if (!string.Equals(keyName, _options.KeyName, StringComparison.Ordinal))
        {
            return $"InvalidSignature: no authorization rule named '{keyName}'.";
        }

        if (!long.TryParse(rawExpiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expiry))
        {
            return "MalformedToken: se is not a number of seconds.";
        }

        // The signature covers the URL-encoded resource exactly as it appears in the token.
        var expected = Convert.FromBase64String(Sign(_options.Key, rawResource + "\n" + rawExpiry));
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(WebUtility.UrlDecode(rawSignature));
        }
        catch (FormatException)
        {
            return "MalformedToken: sig is not Base64.";
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return "InvalidSignature: The token has an invalid signature.";
        }

        var now = _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (expiry <= now)
        {
            return string.Create(CultureInfo.InvariantCulture, $"ExpiredToken: The token is expired. Expiration time: {expiry}, now: {now}.");
        }

        // sr names the namespace or an entity prefix of the target; the scheme does not matter.
        var resource = StripScheme(WebUtility.UrlDecode(rawResource)).TrimEnd('/');
        var target = StripScheme(entityUri).TrimEnd('/');
        var covers = target.Equals(resource, StringComparison.OrdinalIgnoreCase)
            || target.StartsWith(resource + "/", StringComparison.OrdinalIgnoreCase);
        return covers ? null : $"InvalidAudience: the token is for '{resource}', not '{target}'.";
    }

    private (List<FakeServiceBusMessage> Messages, string? Error, int Status) ParseSingle(string topic, HttpRequest request, byte[] body)
    {
        var brokerHeader = request.Headers["BrokerProperties"].ToString();
        Dictionary<string, string> broker;
        try
        {
            broker = brokerHeader.Length == 0 ? [] : ReadObject(JsonDocument.Parse(brokerHeader).RootElement);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return ([], "The BrokerProperties header is not a JSON object.", 400);
        }

        var custom = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            if (!NotCustomProperties.Contains(name))
            {
                // A quoted value is a string property ("High" -> High); unquoted is taken as written.
                var value = values.ToString();
                custom[name] = value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
            }
        }

        var size = body.Length + Encoding.UTF8.GetByteCount(brokerHeader) + custom.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
        var message = Message(topic, Encoding.UTF8.GetString(body), request.ContentType, broker, custom, viaBatch: false);
        if (size > _options.MaxMessageBytes)
        {
            return ([message], TooLarge("message", size, _options.MaxMessageBytes), _options.SizeLimitStatusCode);
        }

        return ([message], null, 201);
    }

    private (List<FakeServiceBusMessage> Messages, string? Error, int Status) ParseBatch(string topic, byte[] body)
    {
        var messages = new List<FakeServiceBusMessage>();
        List<int> sizes = [];
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return ([], "The batch must be a JSON array of messages.", 400);
            }

            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("Body", out var bodyElement) || bodyElement.ValueKind != JsonValueKind.String)
                {
                    return (messages, "Every message in a batch needs a string Body.", 400);
                }

                var broker = item.TryGetProperty("BrokerProperties", out var b) ? ReadObject(b) : [];
                var user = item.TryGetProperty("UserProperties", out var u) ? ReadObject(u) : [];
                var text = bodyElement.GetString()!;
                // Batch messages have no Content-Type of their own: the documented broker properties do not include it.
                messages.Add(Message(topic, text, contentType: null, broker, user, viaBatch: true));
                sizes.Add(Encoding.UTF8.GetByteCount(text) + (b.ValueKind == JsonValueKind.Object ? Encoding.UTF8.GetByteCount(b.GetRawText()) : 0)
                    + user.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value)));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return (messages, "The batch is not valid JSON.", 400);
        }

        if (body.Length > _options.MaxBatchBytes)
        {
            return (messages, TooLarge("batch", body.Length, _options.MaxBatchBytes), _options.SizeLimitStatusCode);
        }

        if (sizes.Count > 0 && sizes.Max() > _options.MaxMessageBytes)
        {
            return (messages, TooLarge("message", sizes.Max(), _options.MaxMessageBytes), _options.SizeLimitStatusCode);
        }

        return messages.Count == 0 ? (messages, "The batch is empty.", 400) : (messages, null, 201);
    }

    private static FakeServiceBusMessage Message(string topic, string body, string? contentType, Dictionary<string, string> broker, Dictionary<string, string> user, bool viaBatch) =>
        new(
            topic,
            body,
            contentType,
            broker.Where(p => AcceptedBrokerProperties.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            broker.Where(p => !AcceptedBrokerProperties.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            user,
            viaBatch);

    private static string TooLarge(string what, int size, int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"The received {what} (size:{size} bytes) exceeds the limit ({limit} bytes) currently allowed on the link.");

    private static Dictionary<string, string> ReadObject(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException("not an object");
        }

        return element.EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(),
            StringComparer.Ordinal);
    }

    private async Task AnswerAsync(HttpContext context, string authorization, long bodyBytes, IReadOnlyList<string> ids, int status, string? error)
    {
        Log(context.Request, authorization, bodyBytes, status, ids, error);
        context.Response.StatusCode = status;
        if (error is not null)
        {
            // The broker's error shape: <Error><Code>..</Code><Detail>..</Detail></Error>.
            context.Response.ContentType = "application/xml; charset=utf-8";
            var tracking = Guid.NewGuid().ToString("N");
            await context.Response.WriteAsync(
                $"<Error><Code>{status}</Code><Detail>{WebUtility.HtmlEncode(error)} TrackingId:{tracking}</Detail></Error>",
                context.RequestAborted);
        }
    }

    private void Log(HttpRequest request, string authorization, long bodyBytes, int status, IReadOnlyList<string> ids, string? error)
    {
        lock (_gate)
        {
            _requests.Add(new FakeServiceBusRequest(
                request.Method,
                request.Path.Value ?? "/",
                request.ContentType,
                authorization.Length == 0 ? null : authorization,
                bodyBytes,
                status,
                ids,
                error));
        }
    }

    private static string Sign(string key, string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(stringToSign)));

    private static string StripScheme(string uri)
    {
        var at = uri.IndexOf("://", StringComparison.Ordinal);
        return at < 0 ? uri : uri[(at + 3)..];
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>
/// Publishes events to a Service Bus topic over the documented REST data plane
/// (<c>POST {endpoint}/{topic}/messages</c>), because the AMQP SDK cannot be restored here.
/// </summary>
/// <remarks>
/// <para>Every message: body = the CloudEvent JSON; BrokerProperties <c>MessageId</c> = event id (so the topic's
/// duplicate detection drops re-sends), <c>CorrelationId</c> (omitted when null), <c>Label</c> = type,
/// <c>SessionId</c> = job id; custom properties <c>type</c>, <c>provider</c>, <c>status</c>.</para>
/// <para>Content type: a single send carries <c>Content-Type: application/cloudevents+json; charset=utf-8</c>, the
/// documented way to set a message's ContentType. The batch format (<c>application/vnd.microsoft.servicebus.json</c>)
/// documents no per-message content type: the accepted broker properties do not include ContentType and unknown
/// ones are ignored. Batch entries still carry <c>BrokerProperties.ContentType</c> (harmless if ignored), a batch of
/// one goes out as a single send, and <see cref="ServiceBusSendMode.Individual"/> guarantees the header on every
/// message at the cost of one request per event.</para>
/// <para>Failures: 401/403/404/410 = Configuration; 408/429/5xx/timeouts/connection errors = Transient; other 4xx =
/// Permanent. A batch answered 400, 413 or "too large" is retried as single sends, so one bad event cannot sink
/// its neighbours. After a Transient or Configuration failure nothing else in the call is attempted: the remaining
/// events are reported with the same kind, so the relay keeps each job's order.</para>
/// </remarks>
public sealed partial class ServiceBusRestPublisher : IEventPublisher
{
    public const string HttpClientName = "servicebus";
    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    /// <summary>Headroom per batch for the request envelope and the broker's own framing.</summary>
    internal const int BatchEnvelopeOverheadBytes = 1024;

    /// <summary>Headroom per batched message for system properties the broker adds (sequence number, times, ...).</summary>
    internal const int PerMessageOverheadBytes = 512;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IServiceBusTokenProvider _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger<ServiceBusRestPublisher> _logger;
    private readonly ServiceBusOptions _options;
    private readonly Uri _messagesUri;

    public ServiceBusRestPublisher(
        IHttpClientFactory httpClientFactory,
        IOptions<ServiceBusOptions> options,
        IServiceBusTokenProvider tokens,
        TimeProvider time,
        ILogger<ServiceBusRestPublisher> logger)
    {
        _httpClientFactory = httpClientFactory ?? throw new ArgumentNullException(nameof(httpClientFactory));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        EntityUri = ResolveEntityUri(_options);
        _messagesUri = new Uri(EntityUri + "/messages");
    }

    public string Name => "ServiceBus";

    /// <summary><c>{endpoint}/{topic}</c>: the address messages go to, and the SAS resource.</summary>
    public string EntityUri { get; }

    /// <summary>The topic address for <paramref name="options"/> (connection string first, then the namespace).</summary>
    public static string ResolveEntityUri(ServiceBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Uri endpoint;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            endpoint = ServiceBusConnectionString.Parse(options.ConnectionString).Endpoint;
        }
        else if (!string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace)
                 && ServiceBusEndpoint.TryFromNamespace(options.FullyQualifiedNamespace, out var fromNamespace, out _))
        {
            endpoint = fromNamespace;
        }
        else
        {
            throw new InvalidOperationException($"{ServiceBusOptions.SectionName}:ConnectionString or {ServiceBusOptions.SectionName}:FullyQualifiedNamespace is required.");
        }

        return ServiceBusEndpoint.EntityUri(endpoint, options.Topic);
    }

    public async Task<IReadOnlyList<PublishResult>> PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return [];
        }

        var results = new PublishResult?[events.Count];
        var call = new CallState();
        var sendable = new List<ServiceBusWireMessage>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var message = ServiceBusWireMessage.Create(events[i], i);
            var id = events[i].EventId;
            if (message.Invalid is { } why)
            {
                var error = $"event {id} can never be sent: {why}";
                results[i] = PublishResult.Failed(id, PublishFailureKind.Permanent, error);
                _logger.LogWarning("Service Bus: {Error}", error);
            }
            else if (message.MessageBytes > _options.MaxMessageBytes)
            {
                // Never sent: it cannot succeed, and a retry loop would only hold up the job's later events.
                var error = string.Create(CultureInfo.InvariantCulture, $"event {id} is {message.MessageBytes} bytes; the limit is {_options.MaxMessageBytes}");
                results[i] = PublishResult.Failed(id, PublishFailureKind.Permanent, error);
                _logger.LogWarning("Service Bus: {Error}; it is failed without being sent", error);
            }
            else
            {
                sendable.Add(message);
            }
        }

        if (_options.SendMode == ServiceBusSendMode.Individual)
        {
            await SendIndividuallyAsync(sendable, results, call, cancellationToken);
        }
        else
        {
            foreach (var unit in PlanBatches(sendable))
            {
                if (call.Stopped is { } stopped)
                {
                    MarkNotSent(unit, results, stopped);
                }
                else if (unit.Count == 1)
                {
                    // A batch of one gains nothing and a single send carries the real Content-Type.
                    await SendOneAsync(unit[0], results, call, cancellationToken);
                }
                else
                {
                    await SendBatchAsync(unit, results, call, cancellationToken);
                }
            }
        }

        var list = new PublishResult[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            list[i] = results[i] ?? PublishResult.Failed(events[i].EventId, PublishFailureKind.Transient, "not sent");
        }

        return list;
    }

    /// <summary>
    /// Groups messages, in order, into batches whose serialized size plus headroom stays within
    /// <see cref="ServiceBusOptions.MaxBatchBytes"/>. A message too big to share a batch is a unit of its own.
    /// </summary>
    internal List<List<ServiceBusWireMessage>> PlanBatches(IReadOnlyList<ServiceBusWireMessage> messages)
    {
        const long emptyBatch = BatchEnvelopeOverheadBytes + 2; // "[" and "]"
        var units = new List<List<ServiceBusWireMessage>>();
        var current = new List<ServiceBusWireMessage>();
        var size = emptyBatch;
        foreach (var message in messages)
        {
            long cost = message.BatchEntry.Length + 1 + PerMessageOverheadBytes; // entry + ','
            if (emptyBatch + cost > _options.MaxBatchBytes)
            {
                Flush();
                units.Add([message]);
                continue;
            }

            if (current.Count > 0 && (size + cost > _options.MaxBatchBytes || current.Count >= _options.MaxBatchMessages))
            {
                Flush();
            }

            current.Add(message);
            size += cost;
        }

        Flush();
        return units;

        void Flush()
        {
            if (current.Count > 0)
            {
                units.Add(current);
                current = [];
                size = emptyBatch;
            }
        }
    }

    internal static byte[] BuildBatchBody(IReadOnlyList<ServiceBusWireMessage> batch)
    {
        var length = 2 + batch.Sum(m => m.BatchEntry.Length) + batch.Count - 1;
        var body = new byte[length];
        var at = 0;
        body[at++] = (byte)'[';
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0)
            {
                body[at++] = (byte)',';
            }

            batch[i].BatchEntry.CopyTo(body, at);
            at += batch[i].BatchEntry.Length;
        }

        body[at] = (byte)']';
        return body;
    }

    private async Task SendBatchAsync(List<ServiceBusWireMessage> batch, PublishResult?[] results, CallState call, CancellationToken cancellationToken)
    {
        var body = BuildBatchBody(batch);
        var what = string.Create(CultureInfo.InvariantCulture, $"a batch of {batch.Count} events ({batch[0].Source.EventId} .. {batch[^1].Source.EventId}, {body.Length} bytes)");
        var outcome = await SendAsync(
            () =>
            {
                var content = new ByteArrayContent(body);
                // Exactly this media type, without charset: the docs ask for no parameters.
                content.Headers.ContentType = new MediaTypeHeaderValue(BatchContentType);
                return new HttpRequestMessage(HttpMethod.Post, _messagesUri) { Content = content };
            },
            what,
            cancellationToken);

        if (outcome.Failure is null)
        {
            foreach (var message in batch)
            {
                results[message.Index] = PublishResult.Ok(message.Source.EventId);
            }

            return;
        }

        if (outcome.Splittable)
        {
            _logger.LogInformation("Service Bus refused {What} ({Error}); sending its events one by one", what, outcome.Error);
            await SendIndividuallyAsync(batch, results, call, cancellationToken);
            return;
        }

        foreach (var message in batch)
        {
            results[message.Index] = PublishResult.Failed(message.Source.EventId, outcome.Failure.Value, outcome.Error!);
        }

        call.StopIfFatal(outcome);
    }

    /// <summary>One request per message; different jobs in parallel, each job strictly in order.</summary>
    private async Task SendIndividuallyAsync(IReadOnlyList<ServiceBusWireMessage> messages, PublishResult?[] results, CallState call, CancellationToken cancellationToken)
    {
        var jobs = messages.GroupBy(m => m.Source.JobId, StringComparer.Ordinal).ToList();
        if (jobs.Count <= 1 || _options.MaxConcurrentSends == 1)
        {
            foreach (var message in messages)
            {
                await SendOneAsync(message, results, call, cancellationToken);
            }

            return;
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentSends, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(jobs, parallel, async (job, token) =>
        {
            foreach (var message in job)
            {
                await SendOneAsync(message, results, call, token);
            }
        });
    }

    private async Task SendOneAsync(ServiceBusWireMessage message, PublishResult?[] results, CallState call, CancellationToken cancellationToken)
    {
        if (call.Stopped is { } stopped)
        {
            MarkNotSent([message], results, stopped);
            return;
        }

        var outcome = await SendAsync(
            () =>
            {
                var content = new ByteArrayContent(message.Body);
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(ServiceBusWireMessage.CloudEventsContentType);
                var request = new HttpRequestMessage(HttpMethod.Post, _messagesUri) { Content = content };
                request.Headers.TryAddWithoutValidation(ServiceBusWireMessage.BrokerPropertiesHeader, message.BrokerPropertiesJson);
                foreach (var (name, value) in message.CustomProperties)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                return request;
            },
            $"event {message.Source.EventId}",
            cancellationToken);

        results[message.Index] = outcome.Failure is { } kind
            ? PublishResult.Failed(message.Source.EventId, kind, outcome.Error!)
            : PublishResult.Ok(message.Source.EventId);
        call.StopIfFatal(outcome);
    }

    private static void MarkNotSent(IEnumerable<ServiceBusWireMessage> messages, PublishResult?[] results, Outcome stoppedBy)
    {
        foreach (var message in messages)
        {
            results[message.Index] = PublishResult.Failed(
                message.Source.EventId,
                stoppedBy.Failure!.Value,
                $"not sent because an earlier send in the same call failed: {stoppedBy.Error}");
        }
    }

    private async Task<Outcome> SendAsync(Func<HttpRequestMessage> createRequest, string what, CancellationToken cancellationToken)
    {
        // The caller's token cancels the call (and throws); SendTimeout only fails this request.
        using var timeout = new CancellationTokenSource(_options.SendTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        string authorization;
        try
        {
            authorization = await _tokens.GetAuthorizationAsync(linked.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return Fail(Outcome.Transient($"no token for {what} within {_options.SendTimeout:c}"), what);
        }
        catch (Exception ex)
        {
            return Fail(Outcome.Configuration($"could not get a token for Service Bus ({ex.GetType().Name}): {FirstLine(ex.Message)}"), what);
        }

        try
        {
            using var request = createRequest();
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (response.IsSuccessStatusCode)
            {
                return Outcome.Success;
            }

            var detail = await ReadDetailAsync(response, authorization, linked.Token);
            var outcome = Classify(response.StatusCode, detail, what);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                _tokens.Invalidate();
            }

            return Fail(outcome, what);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return Fail(Outcome.Transient($"no answer from Service Bus to {what} within {_options.SendTimeout:c}"), what);
        }
        catch (HttpRequestException ex)
        {
            return Fail(Outcome.Transient($"could not reach Service Bus for {what}: {FirstLine(ex.Message)}"), what);
        }
    }

    private Outcome Fail(Outcome outcome, string what)
    {
        _logger.LogWarning("Service Bus send of {What} to {Topic} failed ({Kind}): {Error}", what, _options.Topic, outcome.Failure, outcome.Error);
        return outcome;
    }

    internal static Outcome Classify(HttpStatusCode status, string detail, string what)
    {
        var code = (int)status;
        var error = string.Create(CultureInfo.InvariantCulture, $"Service Bus answered {code} {ReasonOf(status)} to {what}")
            + (detail.Length > 0 ? ": " + detail : string.Empty);
        return code switch
        {
            400 => Outcome.Permanent(error, splittable: true),
            401 or 404 or 410 => Outcome.Configuration(error),
            // The docs give 403 for "quota exceeded or message too large": only the detail tells them apart.
            403 => LooksTooLarge(detail) ? Outcome.Permanent(error, splittable: true) : Outcome.Configuration(error),
            408 or 429 => Outcome.Transient(error),
            413 => Outcome.Permanent(error, splittable: true),
            >= 500 => Outcome.Transient(error),
            >= 400 => Outcome.Permanent(error),
            _ => Outcome.Configuration(error + " (unexpected status: is the endpoint a Service Bus namespace?)"),
        };
    }

    internal static bool LooksTooLarge(string detail) =>
        !detail.Contains("quota", StringComparison.OrdinalIgnoreCase)
        && !detail.Contains("entity size", StringComparison.OrdinalIgnoreCase)
        && TooLargePattern().IsMatch(detail);

    [GeneratedRegex(@"too large|too big|MessageSizeExceeded|message size|batch size|\bexceeds the (size )?limit", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TooLargePattern();

    [GeneratedRegex(@"<Detail>(?<d>.*?)</Detail>", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex DetailPattern();

    [GeneratedRegex(@"(sig=)[^&\s""<]+|(Bearer\s+)[A-Za-z0-9\-._~+/=]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();

    /// <summary>The broker's error detail, short and with anything token-like removed.</summary>
    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, string authorization, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[4096];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            {
                read += n;
            }

            text = Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return string.Empty;
        }

        if (DetailPattern().Match(text) is { Success: true } m)
        {
            // XML text: decode entities so operators read the broker's words, not &#39; and &lt;.
            text = WebUtility.HtmlDecode(m.Groups["d"].Value);
        }

        text = text.Replace(authorization, "***", StringComparison.Ordinal);
        text = SecretPattern().Replace(text, "$1$2***");
        text = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return text.Length <= 300 ? text : text[..300] + "...";
    }

    private static string ReasonOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.TooManyRequests => "Too Many Requests",
        HttpStatusCode.RequestEntityTooLarge => "Request Entity Too Large",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.BadRequest => "Bad Request",
        _ => status.ToString(),
    };

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 300 ? line : line[..300] + "...";
    }

    /// <summary>What one request came to.</summary>
    internal readonly record struct Outcome(PublishFailureKind? Failure, string? Error, bool Splittable)
    {
        public static Outcome Success => default;

        public static Outcome Transient(string error) => new(PublishFailureKind.Transient, error, false);

        public static Outcome Configuration(string error) => new(PublishFailureKind.Configuration, error, false);

        public static Outcome Permanent(string error, bool splittable = false) => new(PublishFailureKind.Permanent, error, splittable);
    }

    /// <summary>Shared by the sends of one publish call: the first Transient/Configuration failure stops the rest.</summary>
    private sealed class CallState
    {
        private readonly Lock _gate = new();
        private Outcome? _stopped;

        public Outcome? Stopped
        {
            get
            {
                lock (_gate)
                {
                    return _stopped;
                }
            }
        }

        public void StopIfFatal(Outcome outcome)
        {
            if (outcome.Failure is PublishFailureKind.Transient or PublishFailureKind.Configuration)
            {
                lock (_gate)
                {
                    _stopped ??= outcome;
                }
            }
        }
    }
}

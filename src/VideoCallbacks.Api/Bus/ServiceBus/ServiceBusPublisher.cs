using System.Globalization;
using Azure.Identity;
using Azure.Messaging.ServiceBus;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>
/// Publishes events to the Service Bus topic through the official SDK: one long-lived sender, events packed in
/// order into <see cref="ServiceBusMessageBatch"/>es (the SDK measures each message against the link's limit).
/// </summary>
/// <remarks>
/// After a Transient or Configuration failure nothing else in the call is attempted: the remaining events are
/// reported failed with the same kind, so the relay keeps each job's order. An event that can never fit
/// (MessageSizeExceeded) fails at once as Permanent and does not hold back the others.
/// </remarks>
public sealed class ServiceBusPublisher(ServiceBusSender sender, ILogger<ServiceBusPublisher> logger) : IEventPublisher
{
    public const string CloudEventsContentType = "application/cloudevents+json; charset=utf-8";

    public string Name => "ServiceBus";

    public async Task<IReadOnlyList<PublishResult>> PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var results = new PublishResult?[events.Count];
        var inBatch = new List<int>();
        ServiceBusMessageBatch? batch = null;
        Failure? stopped = null;
        try
        {
            for (var i = 0; i < events.Count && stopped is null; i++)
            {
                var e = events[i];
                if (ToMessage(e) is not { } message)
                {
                    results[i] = Log(PublishResult.Failed(e.EventId, PublishFailureKind.Permanent,
                        "MessageSizeExceeded: the event id or job id is longer than the 128 characters a MessageId or SessionId may have"));
                    continue;
                }

                batch ??= await CreateBatchAsync(cancellationToken);
                if (batch.TryAddMessage(message))
                {
                    inBatch.Add(i);
                    continue;
                }

                if (inBatch.Count > 0)
                {
                    // Full: send what it holds, then try this event in a fresh batch.
                    stopped = await SendAsync(batch, inBatch, events, results, cancellationToken);
                    batch.Dispose();
                    batch = null;
                    if (stopped is not null)
                    {
                        break;
                    }

                    batch = await CreateBatchAsync(cancellationToken);
                    if (batch.TryAddMessage(message))
                    {
                        inBatch.Add(i);
                        continue;
                    }
                }

                // Alone in an empty batch and still too big: it can never be sent, so it fails now, unsent.
                results[i] = Log(PublishResult.Failed(e.EventId, PublishFailureKind.Permanent, string.Create(CultureInfo.InvariantCulture,
                    $"MessageSizeExceeded: event {e.EventId} ({e.CloudEventJson.Length} characters of JSON) exceeds the largest message the topic takes ({batch.MaxSizeInBytes} bytes)")));
            }

            if (stopped is null && batch is not null && inBatch.Count > 0)
            {
                stopped = await SendAsync(batch, inBatch, events, results, cancellationToken);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Classify(ex) is { } failure)
        {
            // CreateMessageBatchAsync opens the connection and link: this is where an unreachable or refusing broker shows.
            stopped = failure;
            foreach (var i in inBatch.Where(i => results[i] is null))
            {
                results[i] = PublishResult.Failed(events[i].EventId, failure.Kind, failure.Error);
            }
        }
        finally
        {
            batch?.Dispose();
        }

        if (stopped is { } s)
        {
            logger.LogWarning("Service Bus send to {Topic} failed ({Kind}): {Error}", sender.EntityPath, s.Kind, s.Error);
        }

        var list = new PublishResult[events.Count];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = results[i] ?? PublishResult.Failed(events[i].EventId, stopped?.Kind ?? PublishFailureKind.Transient,
                stopped?.Error ?? "the publisher gave no result");
        }

        return list;
    }

    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Creating a batch opens the connection, authorizes and attaches the send link; nothing is sent.
            using var batch = await sender.CreateMessageBatchAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Classify(ex) is { } failure)
        {
            logger.LogWarning("Service Bus: could not open the link to {Topic} at start ({Kind}): {Error}; the relay keeps trying",
                sender.EntityPath, failure.Kind, failure.Error);
        }
    }

    /// <summary>The contract's mapping (DESIGN.md, Events, On Service Bus); null when an id is too long to be a MessageId.</summary>
    public static ServiceBusMessage? ToMessage(OutgoingEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.EventId.Length is 0 or > 128 || e.JobId.Length is 0 or > 128)
        {
            return null;
        }

        var message = new ServiceBusMessage(BinaryData.FromString(e.CloudEventJson))
        {
            ContentType = CloudEventsContentType,
            MessageId = e.EventId,
            CorrelationId = e.CorrelationId,
            Subject = e.Type,
            SessionId = e.JobId,
        };
        message.ApplicationProperties["type"] = e.Type;
        message.ApplicationProperties["provider"] = e.Provider;
        message.ApplicationProperties["status"] = e.Status;
        message.ApplicationProperties["client"] = e.Client;
        if (e.TraceParent is { Length: > 0 } traceParent)
        {
            // Set before sending so the SDK keeps them instead of stamping the relay loop's own trace:
            // a subscriber's trace then continues the provider callback's.
            message.ApplicationProperties["Diagnostic-Id"] = traceParent;
            message.ApplicationProperties["traceparent"] = traceParent;
        }

        return message;
    }

    private ValueTask<ServiceBusMessageBatch> CreateBatchAsync(CancellationToken cancellationToken) =>
        sender.CreateMessageBatchAsync(cancellationToken);

    private async Task<Failure?> SendAsync(ServiceBusMessageBatch batch, List<int> indices, IReadOnlyList<OutgoingEvent> events, PublishResult?[] results, CancellationToken cancellationToken)
    {
        Failure? failure = null;
        try
        {
            await sender.SendMessagesAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Classify(ex) is { } f)
        {
            failure = f;
        }

        foreach (var i in indices)
        {
            results[i] = failure is null
                ? PublishResult.Ok(events[i].EventId)
                : PublishResult.Failed(events[i].EventId, failure.Kind, failure.Error);
        }

        indices.Clear();
        return failure;
    }

    /// <summary>How the relay should treat what the SDK threw; null for exceptions that must propagate.</summary>
    internal static Failure? Classify(Exception ex) => ex switch
    {
        ServiceBusException sb => new Failure(sb.Reason switch
        {
            ServiceBusFailureReason.MessageSizeExceeded => PublishFailureKind.Permanent,
            ServiceBusFailureReason.MessagingEntityNotFound
                or ServiceBusFailureReason.MessagingEntityDisabled
                // A full topic means subscribers stopped draining it: an operator must act, like a misconfiguration.
                or ServiceBusFailureReason.QuotaExceeded => PublishFailureKind.Configuration,
            // ServiceBusy, ServiceTimeout, ServiceCommunicationProblem, GeneralError and the rest.
            _ => PublishFailureKind.Transient,
        }, $"{sb.Reason}: {FirstLine(sb.Message)}"),
        UnauthorizedAccessException => new Failure(PublishFailureKind.Configuration, $"Unauthorized: {FirstLine(ex.Message)}"),
        AuthenticationFailedException or CredentialUnavailableException =>
            new Failure(PublishFailureKind.Configuration, $"Unauthorized: no Entra ID token ({ex.GetType().Name}): {FirstLine(ex.Message)}"),
        OperationCanceledException or TimeoutException => new Failure(PublishFailureKind.Transient, $"ServiceTimeout: {FirstLine(ex.Message)}"),
        OutOfMemoryException => null,
        _ => new Failure(PublishFailureKind.Transient, $"{ex.GetType().Name}: {FirstLine(ex.Message)}"),
    };

    private PublishResult Log(PublishResult result)
    {
        logger.LogWarning("Service Bus: {Error}; failed without being sent", result.Error);
        return result;
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        // The SDK appends a troubleshooting link to every message: noise in an event's last error.
        var link = line.IndexOf(" For troubleshooting information", StringComparison.Ordinal);
        if (link > 0)
        {
            line = line[..link];
        }

        return line.Length <= 400 ? line : line[..400] + "...";
    }

    internal sealed record Failure(PublishFailureKind Kind, string Error);
}

using System.Diagnostics;
using Azure.Messaging.ServiceBus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>A subscriber's trace continues the provider callback's trace, through the outbox and the bus.</summary>
public sealed class RelayTraceContextTests
{
    [Theory, BothDatabases]
    public async Task The_message_a_callback_causes_carries_the_callback_requests_trace_id(Db db)
    {
        await using var bus = await BusApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(bus.App, "apiframe");
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();

        // The provider's side of the trace. The app runs in this process, and its HttpClient instrumentation
        // rewrites a hand-set traceparent header; an ambient activity is what HttpClient propagates.
        HttpResponseMessage response;
        using (new Activity("provider.callback").SetParentId($"00-{traceId}-{callerSpan}-01").Start())
        {
            response = await bus.Api.PostCallbackAsync(hook.CallbackUrl,
                Fixture.Load("apiframe/finished-with-status.json", hook.ProviderTaskId!),
                new Dictionary<string, string> { ["x-webhook-secret"] = hook.Secret! });
        }
        Assert.True(response.IsSuccessStatusCode, $"callback answered {(int)response.StatusCode}");
        response.Dispose();

        // Consumed the way subscribers consume it.
        await using var client = new ServiceBusClient(bus.Broker.ConnectionString);
        await using var receiver = client.CreateReceiver(bus.Broker.Topic, "all");
        var completed = await Wait.UntilAsync(
            async () =>
            {
                var batch = await receiver.ReceiveMessagesAsync(10, TimeSpan.FromSeconds(1));
                foreach (var m in batch) await receiver.CompleteMessageAsync(m);
                return batch.FirstOrDefault(m => m.MessageId == $"{hook.JobId}:completed");
            },
            m => m is not null,
            "the completed event on the subscription");

        var traceParent = Assert.IsType<string>(completed!.ApplicationProperties["traceparent"]);
        var parts = traceParent.Split('-');
        Assert.Equal(4, parts.Length);
        Assert.Equal(traceId, parts[1]);
        // The service's own span of that request, a child of the caller's: not the relay loop's.
        Assert.NotEqual(callerSpan, parts[2]);
        Assert.Equal(traceParent, completed.ApplicationProperties["Diagnostic-Id"]);

        // The submitted event was caused by another request (the submission): another trace.
        var submitted = Assert.Single(bus.Broker.Messages, m => m.MessageId == $"{hook.JobId}:submitted");
        Assert.DoesNotContain(traceId, submitted.Property("traceparent") ?? "", StringComparison.Ordinal);
    }
}

// The subscriber example of the README's Service Bus section, verbatim between the markers
// (SubscriberExampleTests checks that the README still shows exactly this code, and runs it).
// <subscriber-example>
using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Messaging.ServiceBus;

namespace Contoso.VideoConsumer;

public sealed record VideoEvent(string Id, string Type, string JobId, string Status, IReadOnlyList<string> VideoUrls);

/// <summary>Consumes the topic through one subscription; delivery is at least once, so it de-duplicates on the CloudEvent id.</summary>
public sealed class VideoEventsSubscriber(ServiceBusClient client, string topic, string subscription, Func<VideoEvent, Task> handle)
    : IAsyncDisposable
{
    // A real service records handled ids in its own database, in the transaction that acts on the event.
    private readonly ConcurrentDictionary<string, byte> _handled = new();
    private readonly ServiceBusProcessor _processor = client.CreateProcessor(topic, subscription,
        new ServiceBusProcessorOptions { AutoCompleteMessages = false, MaxConcurrentCalls = 1 });

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        _processor.ProcessMessageAsync += OnMessageAsync;
        _processor.ProcessErrorAsync += args => Task.CompletedTask; // log args.Exception in a real service
        return _processor.StartProcessingAsync(cancellationToken);
    }

    private async Task OnMessageAsync(ProcessMessageEventArgs args)
    {
        using var cloudEvent = JsonDocument.Parse(args.Message.Body.ToMemory());
        var root = cloudEvent.RootElement;
        var id = root.GetProperty("id").GetString()!;
        if (_handled.TryAdd(id, 0))
        {
            var data = root.GetProperty("data");
            await handle(new VideoEvent(
                id,
                root.GetProperty("type").GetString()!,
                data.GetProperty("jobId").GetString()!,
                data.GetProperty("status").GetString()!,
                [.. data.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!)]));
        }

        await args.CompleteMessageAsync(args.Message, args.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _processor.StopProcessingAsync();
        await _processor.DisposeAsync();
    }
}
// </subscriber-example>

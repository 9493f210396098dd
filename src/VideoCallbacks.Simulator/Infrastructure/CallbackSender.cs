using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Simulator;

/// <summary>A callback ready to POST. Headers are built per attempt so signatures carry a fresh timestamp.</summary>
internal sealed record OutgoingCallback(
    string Url,
    string Body,
    Func<IReadOnlyDictionary<string, string>> Headers,
    bool RetryOnFailure);

/// <summary>POSTs callbacks with the named client and records every attempt.</summary>
internal sealed class CallbackSender(
    IHttpClientFactory httpClientFactory,
    SimulatorState state,
    IOptions<SimulatorOptions> options,
    TimeProvider time,
    ILogger<CallbackSender> logger)
{
    public const string HttpClientName = "simulator-callbacks";

    // Kie retries after 1, 5 and 15 minutes; scaled to CallbackDelay so tests stay fast.
    private static readonly int[] RetryDelayMultipliers = [1, 5, 15];

    /// <summary>The final callback, <c>~dup=n</c> times (all at once with <c>~dupconcurrent</c>).</summary>
    public async Task DeliverFinalAsync(SimulatedTask task, OutgoingCallback callback, CancellationToken cancellationToken)
    {
        var copies = Math.Clamp(task.DirectiveSet.GetInt("dup", 1), 1, 100);
        if (task.DirectiveSet.Has("dupconcurrent"))
        {
            await Task.WhenAll(Enumerable.Range(0, copies).Select(_ => DeliverAsync(task, callback, cancellationToken)));
            return;
        }

        for (var i = 0; i < copies; i++)
        {
            await DeliverAsync(task, callback, cancellationToken);
        }
    }

    /// <summary>One attempt plus, when the provider does so, retries until a 2xx.</summary>
    public async Task<RecordedCallback> DeliverAsync(SimulatedTask task, OutgoingCallback callback, CancellationToken cancellationToken)
    {
        var recorded = await SendOnceAsync(task, callback, cancellationToken);
        if (!callback.RetryOnFailure)
        {
            return recorded;
        }

        foreach (var multiplier in RetryDelayMultipliers)
        {
            if (IsSuccess(recorded.StatusCode))
            {
                break;
            }

            await Task.Delay(options.Value.CallbackDelay * multiplier, time, cancellationToken);
            recorded = await SendOnceAsync(task, callback, cancellationToken);
        }

        return recorded;
    }

    public async Task<RecordedCallback> SendOnceAsync(SimulatedTask task, OutgoingCallback callback, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(callback.Headers(), StringComparer.OrdinalIgnoreCase);
        using var request = new HttpRequestMessage(HttpMethod.Post, callback.Url)
        {
            Content = new StringContent(callback.Body, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        headers["Content-Type"] = request.Content.Headers.ContentType!.ToString();

        int? statusCode = null;
        if (options.Value.CallbackUrlAllowed is { } allowed && !allowed(callback.Url))
        {
            logger.LogWarning("Simulated {Provider} callback for {TaskId} not sent: its URL is not one this host accepts callbacks on", task.Provider, task.TaskId);
            var refused = new RecordedCallback(task.Provider, task.TaskId, callback.Url, headers, callback.Body, null, time.GetUtcNow());
            state.Record(refused);
            return refused;
        }
        try
        {
            var client = httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, cancellationToken);
            statusCode = (int)response.StatusCode;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A provider sees a timeout or refused connection as a failed delivery, nothing more.
            logger.LogInformation(ex, "Simulated {Provider} callback for {TaskId} to {Url} failed", task.Provider, task.TaskId, callback.Url);
        }

        var recorded = new RecordedCallback(task.Provider, task.TaskId, callback.Url, headers, callback.Body, statusCode, time.GetUtcNow());
        state.Record(recorded);
        return recorded;
    }

    private static bool IsSuccess(int? statusCode) => statusCode is >= 200 and < 300;
}

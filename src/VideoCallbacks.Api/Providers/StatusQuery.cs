using VideoCallbacks.Api.Infrastructure;
using System.Net;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace VideoCallbacks.Api.Providers;

/// <summary>
/// A status question to a provider; safe to repeat. The status client's resilience pipeline does the
/// timeouts, retries and circuit breaking (ProviderHttpClients); whatever still fails becomes "ask again later".
/// </summary>
internal static class StatusQuery
{
    public static async Task<StatusResult> RunAsync(HttpClient http, HttpRequestMessage request, string providerName,
        Func<JsonElement, StatusResult> parse, CancellationToken ct)
    {
        using var activity = Telemetry.Source.StartActivity("provider.status_check");
        activity?.SetTag("videocallbacks.provider", providerName);
        ProviderHttp.Answer answer;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var body = await ProviderHttp.ReadCappedAsync(response.Content, ct);
            answer = new ProviderHttp.Answer(response.StatusCode, body ?? "", ProviderHttp.RetryAfter(response.Headers.RetryAfter), Oversized: body is null);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            var problem = e switch
            {
                BrokenCircuitException => $"{providerName} status queries are paused: too many recent failures (circuit open)",
                TimeoutRejectedException or OperationCanceledException => $"{providerName} did not answer the status query in time",
                _ => $"{providerName} could not be reached for a status query",
            };
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, problem);
            return new StatusResult(null, Problem: problem);
        }
        activity?.SetTag("http.response.status_code", (int)answer.Status);
        if (answer.Status == HttpStatusCode.TooManyRequests)
        {
            return new StatusResult(null, answer.RetryAfter ?? TimeSpan.FromSeconds(30), $"{providerName} is rate limiting status queries");
        }
        if ((int)answer.Status >= 400) return new StatusResult(null, answer.RetryAfter, $"{providerName} answered HTTP {(int)answer.Status}");
        return JsonRead.TryParse(answer.Body, out var root)
            ? parse(root)
            : new StatusResult(null, Problem: answer.Oversized ? ProviderHttp.Unreadable(answer, providerName) : $"{providerName} answered a status query with a body that is not a JSON object");
    }
}

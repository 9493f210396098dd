using System.Net;
using System.Text.Json;

namespace VideoCallbacks.Api.Providers;

/// <summary>A status question to a provider; safe to repeat, so failures simply become "ask again later".</summary>
internal static class StatusQuery
{
    public static async Task<StatusResult> RunAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, string providerName,
        Func<JsonElement, StatusResult> parse, CancellationToken ct)
    {
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http, request, timeout, providerName, ct);
        if (failure is not null) return new StatusResult(null, Problem: failure.Message);
        if (answer!.Status == HttpStatusCode.TooManyRequests)
        {
            return new StatusResult(null, answer.RetryAfter ?? TimeSpan.FromSeconds(30), $"{providerName} is rate limiting status queries");
        }
        if ((int)answer.Status >= 400) return new StatusResult(null, answer.RetryAfter, $"{providerName} answered HTTP {(int)answer.Status}");
        return JsonRead.TryParse(answer.Body, out var root)
            ? parse(root)
            : new StatusResult(null, Problem: answer.Oversized ? ProviderHttp.Unreadable(answer, providerName) : $"{providerName} answered a status query with a body that is not a JSON object");
    }
}

using System.Net;
using Microsoft.Extensions.Http.Resilience;

namespace VideoCallbacks.Api.Providers;

/// <summary>
/// Two named HttpClients per provider. Submissions cost money and the provider may already have the task
/// after a timeout, so the submit client has no resilience handler at all: one attempt, ever.
/// Status queries are safe to repeat, so their client gets the standard pipeline (timeouts, jittered
/// retries honouring Retry-After, a circuit breaker); one named client per provider means one breaker each.
/// </summary>
public static class ProviderHttpClients
{
    /// <summary>Longest Retry-After a status query waits out inside one check; a longer one goes back to the
    /// check worker, which reschedules the job that far ahead instead of holding its lease.</summary>
    public static readonly TimeSpan MaxInlineRetryAfter = TimeSpan.FromSeconds(10);

    public static string Submit(string provider) => $"{provider}-submit";

    public static string Status(string provider) => $"{provider}-status";

    public static IServiceCollection AddProviderHttpClients(this IServiceCollection services, string provider)
    {
        // The deadline is per call (ProviderHttp), so the client's own timeout is off.
        services.AddHttpClient(Submit(provider), c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient(Status(provider), c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddStandardResilienceHandler()
            .Configure((o, sp) => ConfigureStatus(o, sp.GetRequiredService<ProviderRegistry>().Get(provider).Options.Timeout));
        return services;
    }

    private static void ConfigureStatus(HttpStandardResilienceOptions o, TimeSpan timeout)
    {
        o.AttemptTimeout.Timeout = timeout;
        o.TotalRequestTimeout.Timeout = timeout * 3;
        // The breaker samples at least two attempts' worth of time (the options validation requires it).
        if (o.CircuitBreaker.SamplingDuration < timeout * 2) o.CircuitBreaker.SamplingDuration = timeout * 2;
        o.Retry.UseJitter = true;
        o.Retry.ShouldRetryAfterHeader = true;
        o.Retry.ShouldHandle = args => ValueTask.FromResult(
            HttpClientResiliencePredicates.IsTransient(args.Outcome)
            && !(args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } r
                 && ProviderHttp.RetryAfter(r.Headers.RetryAfter) > MaxInlineRetryAfter));
    }
}

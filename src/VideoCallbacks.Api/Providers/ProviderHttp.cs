using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace VideoCallbacks.Api.Providers;

/// <summary>What every provider client does the same way: one attempt, a deadline, an honest classification.</summary>
internal static class ProviderHttp
{
    /// <summary>Provider answers larger than this are not read: no documented answer is near it, and reading on would let a provider exhaust our memory.</summary>
    public const int MaxAnswerBytes = 1024 * 1024;

    /// <param name="Oversized">The body passed <see cref="MaxAnswerBytes"/>; <see cref="Body"/> is then empty (a malformed answer).</param>
    public sealed record Answer(HttpStatusCode Status, string Body, TimeSpan? RetryAfter, bool Oversized = false);

    /// <summary>What an answer over <see cref="MaxAnswerBytes"/> is called in messages.</summary>
    public static readonly string TooLarge = $"more than {MaxAnswerBytes / 1024} KB, which is not a valid answer";

    /// <summary>How a client describes an answer it cannot parse.</summary>
    public static string Unreadable(Answer answer, string providerName) => answer.Oversized
        ? $"{providerName} answered with {TooLarge}"
        : $"{providerName} answered with a body that is not JSON";

    /// <summary>
    /// Sends once (never retried: the provider may already have the task and a retry could charge twice).
    /// Returns the answer, or a failure that says whether the provider could have received the request.
    /// </summary>
    public static async Task<(Answer? Answer, SubmitResult? Failure)> SendOnceAsync(
        HttpClient http, HttpRequestMessage request, TimeSpan timeout, string providerName, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var body = await ReadCappedAsync(response.Content, deadline.Token);
            return (new Answer(response.StatusCode, body ?? "", RetryAfter(response.Headers.RetryAfter), Oversized: body is null), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, new SubmitResult(SubmitOutcome.Timeout, Message: $"{providerName} did not answer within {timeout.TotalSeconds:0.#} s"));
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            // Nothing reached the provider.
            return (null, new SubmitResult(SubmitOutcome.Unavailable, Message: $"{providerName} could not be reached"));
        }
        catch (HttpRequestException)
        {
            // The connection broke after the request went out: the provider may have the task.
            return (null, new SubmitResult(SubmitOutcome.Timeout, Message: $"{providerName} dropped the connection before answering"));
        }
    }

    /// <summary>The body as text, or null when it is longer than <see cref="MaxAnswerBytes"/> (read no further).</summary>
    public static async Task<string?> ReadCappedAsync(HttpContent content, CancellationToken ct)
    {
        if (content.Headers.ContentLength > MaxAnswerBytes) return null;
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        var charset = content.Headers.ContentType?.CharSet;
        var encoding = System.Text.Encoding.UTF8;
        if (charset is { Length: > 0 })
        {
            try { encoding = System.Text.Encoding.GetEncoding(charset.Trim('"')); } catch (ArgumentException) { }
        }
        return encoding.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// A 2xx whose body names no task: the provider most likely created one, so the outcome is unknown
    /// (504, kept for a callback to bind), never "nothing created" (which would free the request for a paid retry).
    /// </summary>
    public static SubmitResult AcceptedWithoutTaskId(string providerName, string what) =>
        new(SubmitOutcome.Timeout, Message: $"{providerName} accepted the request but answered with {what}; the task may exist, so it is not resubmitted");

    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero,
        _ => null,
    };

    public static StringContent Json<T>(T body) =>
        new(JsonSerializer.Serialize(body, ProviderJson.Options), System.Text.Encoding.UTF8, "application/json");

    /// <summary>Status code families shared by Apiframe and NanoGPT (Kie puts its code in the body).</summary>
    public static SubmitResult ClassifyHttpFailure(Answer answer, string providerName, string? providerMessage) => (int)answer.Status switch
    {
        400 or 403 or 404 or 422 => new SubmitResult(SubmitOutcome.Invalid, Message: providerMessage ?? $"{providerName} rejected the request ({(int)answer.Status})"),
        429 => new SubmitResult(SubmitOutcome.RateLimited, Message: providerMessage ?? $"{providerName} is rate limiting requests", RetryAfter: answer.RetryAfter ?? TimeSpan.FromSeconds(10)),
        401 => new SubmitResult(SubmitOutcome.Unavailable, Message: $"{providerName} refused this service's credentials; check the provider ApiKey"),
        402 => new SubmitResult(SubmitOutcome.Unavailable, Message: $"{providerName} account has insufficient credits"),
        _ => new SubmitResult(SubmitOutcome.Unavailable, Message: $"{providerName} failed with HTTP {(int)answer.Status}"),
    };
}

internal static class ProviderJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}

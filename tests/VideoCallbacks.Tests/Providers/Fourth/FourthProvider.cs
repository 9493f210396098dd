using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentValidation;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;

namespace VideoCallbacks.Tests.Providers.Fourth;

/// <summary>
/// A fourth provider, written as a team outside the service would write one: this folder, the public
/// <see cref="ProviderExtensions.AddProvider{TProvider, TOptions}"/> and the public interfaces only, nothing in src/
/// changed. It calls back with its own scheme: Standard-Webhooks-style HMAC over the timestamp and the raw body.
/// </summary>
public sealed class FourthOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:Fourth";

    protected override string SectionName => Section;

    public string SigningKey { get; set; } = "";
}

public sealed class FourthCallbacks(IOptions<FourthOptions> options, TimeProvider time) : ICallbackScheme
{
    public const string TimestampHeader = "X-Fourth-Timestamp";
    public const string SignatureHeader = "X-Fourth-Signature";

    public bool NeedsWebhookSecret => false;

    public IReadOnlyList<string> ProofHeaders { get; } = [SignatureHeader];

    public CallbackBody Read(JsonElement root) => FourthFormat.Read(root);

    public string? Verify(CallbackProof proof)
    {
        var timestamp = proof.Headers[TimestampHeader].FirstOrDefault();
        var signature = proof.Headers[SignatureHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature)) return "missing fourth signature";
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - seconds) > 300) return "stale fourth timestamp";
        var expected = Sign(options.Value.SigningKey, timestamp, proof.Body.Span);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)) ? null : "bad fourth signature";
    }

    public static string Sign(string key, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp + ".").CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(timestamp.Length + 1));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), signed));
    }
}

/// <summary>Its documents: <c>{"job":{"id","state":"running|succeeded|failed","percent","outputs":[{"url"}],"error"}}</c>.</summary>
public static class FourthFormat
{
    public static CallbackBody Read(JsonElement root)
    {
        if (!root.TryGetProperty("job", out var job) || job.ValueKind != JsonValueKind.Object) return new CallbackBody(null, null, "no job object");
        var id = job.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        var state = job.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        ProviderObservation? observation = state switch
        {
            "running" => ProviderObservation.Processing(job.TryGetProperty("percent", out var p) && p.TryGetInt32(out var n) ? n : null),
            "succeeded" when job.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Array =>
                ProviderObservation.Completed([.. o.EnumerateArray().Select(x => x.GetProperty("url").GetString()!)]),
            "failed" => ProviderObservation.Failed("provider_failed", job.TryGetProperty("error", out var e) ? e.GetString() ?? "failed" : "failed"),
            _ => null,
        };
        return new CallbackBody(id, observation, observation is null ? $"unknown state '{state}'" : null);
    }
}

public sealed class FourthProvider(IHttpClientFactory http, ProviderEndpoints endpoints, IOptions<FourthOptions> options, TimeProvider time) : IProvider
{
    public const string Name = "fourth";
    public const string KeyHeader = "X-Fourth-Key";

    private readonly FourthCallbacks _callbacks = new(options, time);

    string IProvider.Name => Name;

    public string DisplayName => "Fourth Video";

    public ProviderEndpointOptions Options => options.Value;

    public ICallbackScheme Callbacks => _callbacks;

    public ProviderPolling? Polling => null;

    public void AddRequestRules(ProviderRequestRules rules)
    {
        rules.RequiredPrompt("prompt is required for fourth.");
        rules.NotFor(Name, x => x.SourceTaskId, "sourceTaskId");
        rules.NotFor(Name, x => x.Mode, "mode");
    }

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "v2/jobs"))
        {
            Content = JsonContent.Create(new { prompt = submission.Request.Prompt, notify = new { url = submission.CallbackUrl } }),
        };
        request.Headers.Add(KeyHeader, endpoint.ApiKey);
        try
        {
            using var response = await http.CreateClient(ProviderHttpClients.Submit(Name)).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return new SubmitResult(SubmitOutcome.Unavailable, Message: $"Fourth Video answered {(int)response.StatusCode}");
            var read = FourthFormat.Read(await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken));
            return read.TaskId is { } taskId
                ? new SubmitResult(SubmitOutcome.Accepted, taskId)
                : new SubmitResult(SubmitOutcome.Timeout, Message: "Fourth Video accepted without a job id");
        }
        catch (HttpRequestException e)
        {
            return new SubmitResult(SubmitOutcome.Unavailable, Message: $"Fourth Video is unreachable: {e.Message}");
        }
    }

    public async Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint.BaseUrl, $"v2/jobs/{Uri.EscapeDataString(providerTaskId)}"));
        request.Headers.Add(KeyHeader, endpoint.ApiKey);
        using var response = await http.CreateClient(ProviderHttpClients.Status(Name)).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode) return new StatusResult(null, Problem: $"Fourth Video answered {(int)response.StatusCode}");
        var read = FourthFormat.Read(await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken));
        return new StatusResult(read.Observation, Problem: read.Problem);
    }
}

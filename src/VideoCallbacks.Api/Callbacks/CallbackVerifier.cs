using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Decides whether a callback is genuine, before anything else looks at it: the per-job URL token
/// always; Apiframe's x-webhook-secret; Kie's HMAC signature when configured; the task id.
/// </summary>
public sealed class CallbackVerifier(IOptions<KieOptions> kie, IOptions<CallbackOptions> options, TimeProvider time)
{
    public const string KieTimestampHeader = "X-Webhook-Timestamp";
    public const string KieSignatureHeader = "X-Webhook-Signature";
    public const string ApiframeSecretHeader = "x-webhook-secret";

    /// <summary>Null when genuine; otherwise the reason, for operators only (the caller gets a bare 401).</summary>
    public string? Verify(string provider, JobCredentials? job, string token, IHeaderDictionary headers, string? bodyTaskId)
    {
        // Hash and compare the token even for an unknown job, so the answer takes the same time.
        var tokenOk = Secrets.MatchesHash(token, job?.TokenHash ?? UnknownJobHash);
        if (job is null) return "no such job";
        if (!tokenOk) return "wrong callback token";
        if (job.Provider != provider) return $"job belongs to {job.Provider}, not {provider}";

        if (provider == ProviderNames.Apiframe)
        {
            var secret = headers[ApiframeSecretHeader].FirstOrDefault();
            if (string.IsNullOrEmpty(secret)) return "missing x-webhook-secret";
            if (!Secrets.MatchesHash(secret, job.SecretHash)) return "wrong x-webhook-secret";
        }
        else if (provider == ProviderNames.Kie && VerifyKie(headers, bodyTaskId) is { } kieProblem)
        {
            return kieProblem;
        }

        if (bodyTaskId is not null && job.ProviderTaskId is not null && !string.Equals(bodyTaskId, job.ProviderTaskId, StringComparison.Ordinal))
        {
            return "task id in the body is not this job's task";
        }
        return null;
    }

    private string? VerifyKie(IHeaderDictionary headers, string? taskId)
    {
        var key = kie.Value.WebhookHmacKey;
        var timestampText = headers[KieTimestampHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(key))
        {
            // Unsigned: the URL token is the proof. A timestamp, if sent, must still be fresh.
            return timestampText is null ? null : CheckTimestamp(timestampText);
        }
        if (string.IsNullOrEmpty(timestampText)) return $"missing {KieTimestampHeader}";
        if (CheckTimestamp(timestampText) is { } stale) return stale;
        var signature = headers[KieSignatureHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(signature)) return $"missing {KieSignatureHeader}";
        if (string.IsNullOrEmpty(taskId)) return "no task id in the body to check the signature against";
        var expected = Sign(key, taskId, timestampText);
        return Secrets.FixedTimeEquals(expected, signature) ? null : "bad signature";
    }

    private string? CheckTimestamp(string text)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return "timestamp is not Unix seconds";
        var skew = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        return skew.Duration() > options.Value.SignatureTolerance ? $"timestamp is {skew.TotalSeconds:0} s away from now" : null;
    }

    /// <summary>Kie's documented scheme: base64(HMAC-SHA256(key, taskId + "." + timestamp)).</summary>
    public static string Sign(string key, string taskId, string timestamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{taskId}.{timestamp}")));

    private static readonly string UnknownJobHash = Secrets.Hash("no-such-job");
}

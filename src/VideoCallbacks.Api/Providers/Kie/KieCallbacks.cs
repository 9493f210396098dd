using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Providers.Kie;

/// <summary>
/// Kie's callbacks: the MJ callback body, and its HMAC signature when <c>Providers:Kie:WebhookHmacKey</c> is set
/// (without a key the per-job URL token is the proof; a timestamp, if sent, must still be fresh).
/// </summary>
public sealed class KieCallbacks(IOptions<KieOptions> options, IOptions<CallbackOptions> callbackOptions, TimeProvider time) : ICallbackScheme
{
    public const string TimestampHeader = "X-Webhook-Timestamp";
    public const string SignatureHeader = "X-Webhook-Signature";

    public bool NeedsWebhookSecret => false;

    public IReadOnlyList<string> ProofHeaders { get; } = [SignatureHeader];

    public CallbackBody Read(JsonElement root)
    {
        var (observation, problem) = KieFormat.FromCallback(root);
        return new CallbackBody(KieFormat.TaskId(root), observation, problem);
    }

    public string? Verify(CallbackProof proof)
    {
        var key = options.Value.WebhookHmacKey;
        var timestampText = proof.Headers[TimestampHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(key))
        {
            return timestampText is null ? null : CheckTimestamp(timestampText);
        }
        if (string.IsNullOrEmpty(timestampText)) return $"missing {TimestampHeader}";
        if (CheckTimestamp(timestampText) is { } stale) return stale;
        var signature = proof.Headers[SignatureHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(signature)) return $"missing {SignatureHeader}";
        // A failure callback may carry "data": null, so no task id: the signature is then checked against the task
        // the job is bound to (the one Kie signs for). A job with no task yet has nothing to check it against.
        if (string.IsNullOrEmpty(proof.TaskId)) return "no task id in the body, and none bound to the job, to check the signature against";
        return Secrets.FixedTimeEquals(Sign(key, proof.TaskId, timestampText), signature) ? null : "bad signature";
    }

    private string? CheckTimestamp(string text)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return "timestamp is not Unix seconds";
        var skew = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        return skew.Duration() > callbackOptions.Value.SignatureTolerance ? $"timestamp is {skew.TotalSeconds:0} s away from now" : null;
    }

    /// <summary>Kie's documented scheme: base64(HMAC-SHA256(key, taskId + "." + timestamp)).</summary>
    public static string Sign(string key, string taskId, string timestamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{taskId}.{timestamp}")));
}

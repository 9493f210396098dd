using System.Text.Json;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Providers.Apiframe;

/// <summary>
/// Apiframe's callbacks: the task document (the same shape /fetch answers), proven by the per-job secret we handed it
/// at submission, sent back in <c>x-webhook-secret</c>.
/// </summary>
public sealed class ApiframeCallbacks : ICallbackScheme
{
    public const string SecretHeader = "x-webhook-secret";

    public bool NeedsWebhookSecret => true;

    /// <summary>The documented header, and the one Apiframe's SDK names for v1 webhooks: either value is a secret.</summary>
    public IReadOnlyList<string> ProofHeaders { get; } = [SecretHeader, "X-Apiframe-Signature"];

    public CallbackBody Read(JsonElement root)
    {
        var (observation, problem) = ApiframeFormat.FromDocument(root);
        return new CallbackBody(ApiframeFormat.TaskId(root), observation, problem);
    }

    public string? Verify(CallbackProof proof)
    {
        var secret = proof.Headers[SecretHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(secret)) return $"missing {SecretHeader}";
        return Secrets.MatchesHash(secret, proof.SecretHash) ? null : $"wrong {SecretHeader}";
    }
}

using System.Text.Json;
using VideoCallbacks.Api.Callbacks;

namespace VideoCallbacks.Api.Providers;

/// <summary>What a callback offers as proof, beyond the per-job URL token the service checks for every provider.</summary>
/// <param name="SecretHash">The hash of the job's webhook secret, when the scheme asked for one at submission.</param>
/// <param name="TaskId">The task id the callback is about: the body's, else the one the job is bound to.</param>
/// <param name="Body">The body's bytes exactly as received, for schemes that sign the whole body (Standard Webhooks style).</param>
public sealed record CallbackProof(IHeaderDictionary Headers, string? SecretHash, string? TaskId, ReadOnlyMemory<byte> Body = default);

/// <summary>How one provider calls back: what it needs at submission, how its bodies read, how its proof is checked.</summary>
public interface ICallbackScheme
{
    /// <summary>True when each job gets its own webhook secret, handed to the provider at submission and proven on every callback.</summary>
    bool NeedsWebhookSecret { get; }

    /// <summary>Headers that carry the provider's proof: stored only as present and length, never their values.</summary>
    IReadOnlyList<string> ProofHeaders { get; }

    /// <summary>Pure: the same body always reads the same way, on receipt and on reprocessing.</summary>
    CallbackBody Read(JsonElement root);

    /// <summary>Null when the provider's own proof holds; otherwise why not (for operators; the caller gets a bare 401).</summary>
    string? Verify(CallbackProof proof);
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;

namespace VideoCallbacks.Api.Caching;

/// <summary>Which job an idempotency key was first used for, and with which request body (a hash).</summary>
/// <param name="FirstUsedAt">When the key was first used: past Idempotency:Lifetime the answer no longer counts.</param>
public sealed record SubmissionAnswer(string RequestHash, string JobId, DateTimeOffset FirstUsedAt);

/// <summary>
/// Idempotent submission answers, shared across instances: a retry (same client, same Idempotency-Key) is
/// answered from here without the database write path or the provider. Only keys the database keeps for good
/// are remembered (a key freed by a certain refusal is not), so this never disagrees with the database.
/// </summary>
public sealed class SubmissionAnswerCache(HybridCache cache)
{
    private static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromDays(1), LocalCacheExpiration = TimeSpan.FromMinutes(10) };
    // A miss answers null and stores nothing: the database path decides and then remembers.
    private static readonly HybridCacheEntryOptions Lookup = new()
    {
        Expiration = Entry.Expiration, LocalCacheExpiration = Entry.LocalCacheExpiration, Flags = HybridCacheEntryFlags.DisableUnderlyingData,
    };

    private long _hits;

    /// <summary>How many submissions this instance answered from here.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    public async ValueTask<SubmissionAnswer?> FindAsync(string scopeKey, CancellationToken ct)
    {
        var answer = await cache.GetOrCreateAsync<SubmissionAnswer?>(Key(scopeKey), _ => ValueTask.FromResult<SubmissionAnswer?>(null), Lookup, cancellationToken: ct);
        if (answer is not null) Interlocked.Increment(ref _hits);
        return answer;
    }

    public ValueTask RememberAsync(string scopeKey, SubmissionAnswer answer, CancellationToken ct) =>
        cache.SetAsync(Key(scopeKey), answer, Entry, cancellationToken: ct);

    // The scope holds the client's key id: only its hash names the entry.
    private static string Key(string scopeKey) => "idem:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scopeKey)));
}

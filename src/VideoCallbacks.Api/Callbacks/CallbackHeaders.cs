using System.Text.Json;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// The headers stored with a callback: all of them, so an operator sees at once when a provider sends its proof under
/// another name than documented, but never a secret. Proof headers, credentials and anything named like a secret are
/// kept as "present, N characters"; so is any value that is the job's own token or webhook secret, whatever its header.
/// </summary>
public static class CallbackHeaders
{
    public const int MaxHeaders = 64;
    public const int MaxValueLength = 1024;

    private static readonly string[] Credentials = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"];
    private static readonly string[] SecretWords = ["secret", "signature", "token", "password", "apikey", "api-key", "api_key"];

    public static string Json(IHeaderDictionary headers, IReadOnlyList<string> proofHeaders, JobCredentials? job)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            if (kept.Count == MaxHeaders) break;
            var value = values.ToString();
            kept[name] = IsSecret(name, value, proofHeaders, job) ? Redacted(value)
                : value.Length > MaxValueLength ? value[..MaxValueLength] + "…" : value;
        }
        return JsonSerializer.Serialize(kept);
    }

    /// <summary>What an operator sees instead of a secret value: that it was there, and how long it was.</summary>
    public static string Redacted(string value) => $"[redacted: present, {value.Length} characters]";

    private static bool IsSecret(string name, string value, IReadOnlyList<string> proofHeaders, JobCredentials? job) =>
        proofHeaders.Contains(name, StringComparer.OrdinalIgnoreCase)
        || Credentials.Contains(name, StringComparer.OrdinalIgnoreCase)
        || SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase))
        // Only a value of a token's length can be one: no hashing of every header on the ingest path.
        || (job is not null && value.Length == Secrets.TokenLength && (Secrets.MatchesHash(value, job.TokenHash) || Secrets.MatchesHash(value, job.SecretHash)));
}

using System.Text.Encodings.Web;

namespace VideoCallbacks.Api.Security;

/// <summary>
/// Removes the secrets we sent a provider from text the provider sent back (error messages are relayed to
/// clients and stored, and some providers echo the request they refused).
/// </summary>
public static class SecretScrubber
{
    public const string Mask = "[redacted]";

    /// <summary>Secrets shorter than this are not treated as secrets (a short value would mask innocent text).</summary>
    private const int MinLength = 8;

    public static string? Scrub(string? text, params string?[] secrets)
    {
        if (string.IsNullOrEmpty(text)) return text;
        // Longest first: the callback URL contains the token, and masking the whole URL reads better.
        foreach (var secret in secrets.Where(s => s is { Length: >= MinLength }).OrderByDescending(s => s!.Length))
        {
            foreach (var form in Forms(secret!))
            {
                text = text.Replace(form, Mask, StringComparison.OrdinalIgnoreCase);
            }
        }
        return text;
    }

    /// <summary>The secret as a provider might echo it: verbatim, JSON-escaped (<c>\/</c>, <c>\u0026</c>) or URL-encoded.</summary>
    private static IEnumerable<string> Forms(string secret)
    {
        yield return secret;
        yield return secret.Replace("/", "\\/", StringComparison.Ordinal);
        yield return JavaScriptEncoder.Default.Encode(secret);
        yield return Uri.EscapeDataString(secret);
    }
}

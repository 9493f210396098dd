using System.Security.Cryptography;
using System.Text;

namespace VideoCallbacks.Api.Security;

/// <summary>Random tokens, their stored hashes, and constant-time comparisons.</summary>
public static class Secrets
{
    /// <summary>256 bits, URL-safe: unguessable and fine inside a path segment.</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The length of every <see cref="NewToken"/>: 32 bytes as unpadded base64url.</summary>
    public const int TokenLength = 43;

    /// <summary>SHA-256 is enough here: tokens are high-entropy, so there is nothing to brute-force.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool MatchesHash(string? presented, string? storedHash)
    {
        if (presented is null || storedHash is null) return false;
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (storedHash.Length != 64) return false;
        byte[] expected;
        try
        {
            expected = Convert.FromHexString(storedHash);
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

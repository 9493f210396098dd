using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Web;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>
/// Service Bus SAS tokens, built exactly as Microsoft's C# sample ("Generate a Shared Access Signature token"):
/// <c>stringToSign = HttpUtility.UrlEncode(resourceUri) + "\n" + expiry</c>, signed with HMAC-SHA256 keyed by the
/// UTF-8 bytes of the key text (not its Base64 decoding), and
/// <c>SharedAccessSignature sr={UrlEncode(resourceUri)}&amp;sig={UrlEncode(signature)}&amp;se={expiry}&amp;skn={keyName}</c>.
/// </summary>
public static class SharedAccessSignature
{
    /// <summary>Builds a token for <paramref name="resourceUri"/> that expires at <paramref name="expiresAt"/> (whole seconds).</summary>
    public static string Create(string resourceUri, string keyName, string key, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(resourceUri);
        ArgumentException.ThrowIfNullOrEmpty(keyName);
        ArgumentException.ThrowIfNullOrEmpty(key);

        var expiry = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        // HttpUtility (lower-case %xx) as in the official sample; the broker verifies the signature over the
        // sr value as sent, so sr and the signed string must use the very same encoding.
        var encodedResource = HttpUtility.UrlEncode(resourceUri);
        var signature = Sign(key, encodedResource + "\n" + expiry);
        return $"SharedAccessSignature sr={encodedResource}&sig={HttpUtility.UrlEncode(signature)}&se={expiry}&skn={keyName}";
    }

    /// <summary>Base64 HMAC-SHA256 of <paramref name="stringToSign"/> keyed with the UTF-8 bytes of <paramref name="key"/>.</summary>
    public static string Sign(string key, string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(stringToSign)));
}

using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace VideoCallbacks.Api.Security;

/// <summary>A named client: a tenant that sees only its own jobs, events, streams and videos.</summary>
public sealed class ClientOptions
{
    /// <summary>Several keys, so a client can rotate: add the new key, move over, remove the old one.</summary>
    public string[] Keys { get; set; } = [];
}

public sealed partial class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>The client named <c>default</c>, kept so existing configurations go on working.</summary>
    public const string DefaultClient = "default";

    public string[] ApiKeys { get; set; } = [];
    public string[] AdminApiKeys { get; set; } = [];
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Set from the environment, not from configuration: Development accepts short keys.</summary>
    internal int MinKeyLength { get; set; } = 24;

    /// <summary>Every client key with the client it belongs to (<c>Auth:ApiKeys</c> are the client <c>default</c>).</summary>
    public IEnumerable<(string Client, string Key)> ClientKeys() =>
        ApiKeys.Select(k => (DefaultClient, k)).Concat(Clients.SelectMany(c => c.Value.Keys.Select(k => (c.Key, k))));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var clientKeys = ClientKeys().ToList();
        if (clientKeys.Count == 0 || AdminApiKeys.Length == 0)
        {
            yield return new ValidationResult(
                "Auth:ApiKeys (or Auth:Clients:{name}:Keys) and Auth:AdminApiKeys must each list at least one key (the service refuses to start without them outside Development).",
                [nameof(ApiKeys)]);
        }
        foreach (var name in Clients.Keys.Where(n => !ClientName().IsMatch(n)))
        {
            yield return new ValidationResult(
                $"Auth:Clients:{Shorten(name)}: a client name is 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.", [nameof(Clients)]);
        }
        foreach (var (name, client) in Clients.Where(c => c.Value.Keys.Length == 0))
        {
            yield return new ValidationResult($"Auth:Clients:{Shorten(name)}:Keys must list at least one key.", [nameof(Clients)]);
        }
        if (!clientKeys.Select(c => c.Key).Concat(AdminApiKeys).All(k => k.Length >= MinKeyLength))
        {
            yield return new ValidationResult(
                $"Auth:ApiKeys / Auth:Clients:{{name}}:Keys / Auth:AdminApiKeys: every key must be at least 24 characters long (8 in Development).", [nameof(ApiKeys)]);
        }
        // A key that opened two tenants would make "whose job is this" ambiguous; name where it is listed, never the key.
        var places = clientKeys.Select(c => (c.Key, Where: c.Client == DefaultClient && ApiKeys.Contains(c.Key) ? "Auth:ApiKeys" : $"Auth:Clients:{c.Client}:Keys"))
            .Concat(AdminApiKeys.Select(k => (Key: k, Where: "Auth:AdminApiKeys")));
        foreach (var repeated in places.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            yield return new ValidationResult(
                $"A key is listed more than once ({string.Join(", ", repeated.Select(p => p.Where).Distinct())}); each key belongs to one client. Key id: {ApiKeyRegistry.IdOf(repeated.Key)}.",
                [nameof(Clients)]);
        }
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex ClientName();
}

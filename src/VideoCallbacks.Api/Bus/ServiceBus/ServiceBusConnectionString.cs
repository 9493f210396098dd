namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>
/// A parsed <c>Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=..;SharedAccessKey=..[;EntityPath=..]</c>.
/// <see cref="Endpoint"/> is the HTTP base address: <c>sb://</c> becomes <c>https://</c>; an <c>http(s)://</c> endpoint is kept.
/// </summary>
public sealed record ServiceBusConnectionString
{
    private ServiceBusConnectionString(Uri endpoint, string keyName, string key, string? entityPath)
    {
        Endpoint = endpoint;
        KeyName = keyName;
        Key = key;
        EntityPath = entityPath;
    }

    private static readonly HashSet<string> KnownNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "Endpoint", "SharedAccessKeyName", "SharedAccessKey", "EntityPath", "SharedAccessSignature", "TransportType", "UseDevelopmentEmulator",
    };

    /// <summary>Absolute base address ending in <c>/</c>, e.g. <c>https://ns.servicebus.windows.net/</c>.</summary>
    public Uri Endpoint { get; }

    public string KeyName { get; }

    /// <summary>The shared access key. Never log it; <see cref="ToString"/> leaves it out.</summary>
    public string Key { get; }

    public string? EntityPath { get; }

    /// <summary>Parses a connection string. Error messages never contain the key.</summary>
    /// <exception cref="FormatException">The string is malformed or incomplete.</exception>
    public static ServiceBusConnectionString Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FormatException("the connection string is empty.");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rawPart in connectionString.Split(';'))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                // Only the name (before any '=') is quoted, so a pasted key can never end up in a log.
                var name = eq == 0 ? "(empty)" : "a part";
                throw new FormatException($"{name} is not of the form Name=Value; parts are separated by ';'.");
            }

            var partName = part[..eq].Trim();
            var partValue = part[(eq + 1)..].Trim();
            if (!values.TryAdd(partName, partValue))
            {
                // Unknown names are not quoted: a Base64 key pasted on its own parses as "name=" + padding.
                var shown = KnownNames.Contains(partName) ? $"'{partName}'" : "a part name";
                throw new FormatException($"{shown} appears more than once.");
            }
        }

        if (values.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException("connection strings with a pre-built SharedAccessSignature are not supported; use SharedAccessKeyName and SharedAccessKey.");
        }

        var endpointText = Required(values, "Endpoint");
        var keyName = Required(values, "SharedAccessKeyName");
        var key = Required(values, "SharedAccessKey");
        values.TryGetValue("EntityPath", out var entityPath);
        entityPath = string.IsNullOrWhiteSpace(entityPath) ? null : entityPath.Trim('/');

        if (!ServiceBusEndpoint.TryFromConnectionStringEndpoint(endpointText, out var endpoint, out var endpointError))
        {
            throw new FormatException(endpointError);
        }

        return new ServiceBusConnectionString(endpoint, keyName, key, entityPath);
    }

    /// <summary>Like <see cref="Parse"/>, without throwing.</summary>
    public static bool TryParse(string? connectionString, out ServiceBusConnectionString? result, out string? error)
    {
        try
        {
            result = Parse(connectionString ?? string.Empty);
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            result = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Safe to log: the key is replaced by <c>***</c>.</summary>
    public override string ToString() =>
        $"Endpoint={Endpoint};SharedAccessKeyName={KeyName};SharedAccessKey=***" + (EntityPath is null ? string.Empty : $";EntityPath={EntityPath}");

    private static string Required(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"{name} is missing.");
}

/// <summary>Addresses of the Service Bus REST data plane.</summary>
internal static class ServiceBusEndpoint
{
    /// <summary>Maps a connection-string endpoint to the HTTP base address (<c>sb://</c> means HTTPS on the REST plane).</summary>
    public static bool TryFromConnectionStringEndpoint(string text, out Uri endpoint, out string error)
    {
        endpoint = null!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"Endpoint '{text}' is not an absolute URI such as sb://<namespace>.servicebus.windows.net/.";
            return false;
        }

        return TryNormalize(uri, "Endpoint", out endpoint, out error);
    }

    /// <summary><c>ns.servicebus.windows.net</c> becomes <c>https://ns.servicebus.windows.net/</c>; an absolute URL is kept.</summary>
    public static bool TryFromNamespace(string text, out Uri endpoint, out string error)
    {
        endpoint = null!;
        var trimmed = text.Trim();
        var candidate = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed : "https://" + trimmed.TrimEnd('/');
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{text}' is not a host name such as <namespace>.servicebus.windows.net.";
            return false;
        }

        return TryNormalize(uri, "FullyQualifiedNamespace", out endpoint, out error);
    }

    /// <summary>Service Bus entity names: letters, digits, '.', '-', '_' and '/' between segments; at most 260 characters.</summary>
    public static bool IsValidEntityPath(string? path, out string error)
    {
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(path))
        {
            error = "it is empty.";
            return false;
        }

        if (path.Length > 260)
        {
            error = "it is longer than 260 characters.";
            return false;
        }

        if (path.StartsWith('/') || path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal))
        {
            error = "it must not start or end with '/' or contain empty segments.";
            return false;
        }

        foreach (var c in path)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/'))
            {
                error = $"'{c}' is not allowed; use letters, digits, '.', '-', '_' and '/'.";
                return false;
            }
        }

        return true;
    }

    /// <summary><c>{endpoint}{topic}</c> without a trailing slash: the SAS resource and the base of the send URL.</summary>
    public static string EntityUri(Uri endpoint, string entityPath) =>
        endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + string.Join('/', entityPath.Split('/').Select(Uri.EscapeDataString));

    private static bool TryNormalize(Uri uri, string what, out Uri endpoint, out string error)
    {
        endpoint = null!;
        error = string.Empty;
        var scheme = uri.Scheme.ToUpperInvariant() switch
        {
            "SB" or "HTTPS" => Uri.UriSchemeHttps,
            "HTTP" => Uri.UriSchemeHttp,
            _ => null,
        };
        if (scheme is null)
        {
            error = $"{what} '{uri}' must use sb://, https:// or http://.";
            return false;
        }

        // sb:// has no default port of its own: the REST plane is always 443.
        var builder = new UriBuilder(uri)
        {
            Scheme = scheme,
            Port = uri.Scheme.Equals("sb", StringComparison.OrdinalIgnoreCase) || uri.IsDefaultPort ? -1 : uri.Port,
            Query = string.Empty,
            Fragment = string.Empty,
        };
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }

        endpoint = builder.Uri;
        return true;
    }
}

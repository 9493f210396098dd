using System.Globalization;
using Azure.Messaging.ServiceBus;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>Settings of the Service Bus transport (the official SDK over AMQP), bound from <c>Bus:ServiceBus</c>.</summary>
public sealed class ServiceBusOptions
{
    public const string SectionName = "Bus:ServiceBus";

    /// <summary>
    /// <c>Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=..;SharedAccessKey=..</c>; a local broker adds
    /// <c>UseDevelopmentEmulator=true</c> (no TLS, the endpoint's port is honoured). Wins over <see cref="FullyQualifiedNamespace"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>ns.servicebus.windows.net</c>: Entra ID through <c>DefaultAzureCredential</c> (role Azure Service Bus Data Sender).</summary>
    public string? FullyQualifiedNamespace { get; set; }

    public string Topic { get; set; } = "video-extensions";

    /// <summary><c>AmqpTcp</c> (port 5671) or <c>AmqpWebSockets</c> (port 443, for networks that block 5671).</summary>
    public ServiceBusTransportType TransportType { get; set; } = ServiceBusTransportType.AmqpTcp;

    /// <summary>
    /// The SDK's own retries of one send. Kept small on purpose: the relay's durable backoff does the long waits,
    /// so a failure is not retried twice over (see README.md in this folder).
    /// </summary>
    public int MaxRetries { get; set; } = 1;

    /// <summary>Wait before the SDK's retry (the SDK waits a fixed 10 s after ServerBusy whatever this says).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Per attempt of one operation (connect, attach, send). Bounds a relay round: about (MaxRetries + 1) x TryTimeout.</summary>
    public TimeSpan TryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem with <paramref name="options"/>, each naming its configuration key. Empty when valid.</summary>
    public static IReadOnlyList<string> Validate(ServiceBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string p = SectionName;
        var errors = new List<string>();

        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            if (ConnectionStringProblem(options.ConnectionString, options.Topic) is { } problem)
            {
                errors.Add($"{p}:ConnectionString is not a valid connection string: {problem}");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace))
        {
            errors.Add($"{p}:ConnectionString or {p}:FullyQualifiedNamespace is required when Bus:Transport is ServiceBus.");
        }
        else if (Uri.CheckHostName(options.FullyQualifiedNamespace.Trim()) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            errors.Add($"{p}:FullyQualifiedNamespace must be a host name such as contoso.servicebus.windows.net.");
        }

        if (string.IsNullOrWhiteSpace(options.Topic) || options.Topic.Length > 260 || options.Topic.Any(c => char.IsWhiteSpace(c) || c is '\\' or '?' or '#'))
        {
            errors.Add($"{p}:Topic must be a topic name (no spaces, '\\', '?' or '#').");
        }

        if (!Enum.IsDefined(options.TransportType))
        {
            errors.Add($"{p}:TransportType must be AmqpTcp or AmqpWebSockets.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{p}:MaxRetries must be between 0 and 10; it is {options.MaxRetries}."));
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{p}:RetryDelay must be between 00:00:00 and 00:01:00; it is {options.RetryDelay:c}.");
        }

        if (options.TryTimeout < TimeSpan.FromMilliseconds(100) || options.TryTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{p}:TryTimeout must be between 00:00:00.100 and 00:05:00; it is {options.TryTimeout:c}.");
        }

        return errors;
    }

    /// <summary>Why the connection string cannot work, without ever quoting it (it holds the key); null when it can.</summary>
    private static string? ConnectionStringProblem(string connectionString, string topic)
    {
        ServiceBusConnectionStringProperties parsed;
        try
        {
            parsed = ServiceBusConnectionStringProperties.Parse(connectionString);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            // The SDK's parser messages describe the shape, never the values.
            return "it is not a list of Name=Value pairs separated by ';'";
        }

        if (parsed.Endpoint is null)
        {
            return "Endpoint is missing";
        }

        var hasKeyName = !string.IsNullOrEmpty(parsed.SharedAccessKeyName);
        var hasKey = !string.IsNullOrEmpty(parsed.SharedAccessKey);
        if (string.IsNullOrEmpty(parsed.SharedAccessSignature))
        {
            if (!hasKeyName)
            {
                return "SharedAccessKeyName is missing";
            }

            if (!hasKey)
            {
                return "SharedAccessKey is missing";
            }
        }

        if (!string.IsNullOrEmpty(parsed.EntityPath) && !string.Equals(parsed.EntityPath, topic, StringComparison.OrdinalIgnoreCase))
        {
            // An entity-level key only opens its own entity: sending elsewhere would be a steady stream of refusals.
            return $"its EntityPath '{parsed.EntityPath}' differs from {SectionName}:Topic '{topic}'";
        }

        return null;
    }
}

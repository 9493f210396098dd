using System.Globalization;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>How a publish call puts its events on the wire.</summary>
public enum ServiceBusSendMode
{
    /// <summary>
    /// "Send Message Batch" (<c>application/vnd.microsoft.servicebus.json</c>): many events per request.
    /// The REST batch format has no documented per-message content type (see <see cref="ServiceBusRestPublisher"/>).
    /// </summary>
    Batch,

    /// <summary>
    /// "Send Message", one request per event: every message carries the HTTP <c>Content-Type</c>
    /// (the documented way to set a message's ContentType). Jobs are sent concurrently, each job in order.
    /// </summary>
    Individual,
}

/// <summary>Settings of the Service Bus REST transport, bound from <c>Bus:ServiceBus</c>.</summary>
public sealed class ServiceBusOptions
{
    public const string SectionName = "Bus:ServiceBus";

    /// <summary>Standard tier limit; premium namespaces allow 1 MiB and more.</summary>
    public const int DefaultMaxBytes = 256 * 1024;

    /// <summary><c>Endpoint=sb://..;SharedAccessKeyName=..;SharedAccessKey=..</c>. Wins over <see cref="FullyQualifiedNamespace"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// <c>ns.servicebus.windows.net</c> (Entra ID via <c>DefaultAzureCredential</c>). An absolute
    /// <c>http(s)://</c> URL is used as-is, so tests can aim at a local server.
    /// </summary>
    public string? FullyQualifiedNamespace { get; set; }

    public string Topic { get; set; } = "video-extensions";

    /// <summary>Upper bound of one batch request, counted with headroom for broker overhead.</summary>
    public int MaxBatchBytes { get; set; } = DefaultMaxBytes;

    /// <summary>Largest single message (body + properties); bigger events fail at once as Permanent.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxBytes;

    /// <summary>Most messages in one batch request, whatever their size.</summary>
    public int MaxBatchMessages { get; set; } = 100;

    /// <summary>Per HTTP request, token acquisition included. A timeout is reported as Transient.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public ServiceBusSendMode SendMode { get; set; } = ServiceBusSendMode.Individual;

    /// <summary>Parallel single sends (different jobs only: one job's events always go in order).</summary>
    public int MaxConcurrentSends { get; set; } = 64;

    /// <summary>Lifetime of the SAS tokens minted from the connection string.</summary>
    public TimeSpan SasTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A cached SAS or Entra ID token is replaced once less than this is left.</summary>
    public TimeSpan TokenRenewalMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Every problem with <paramref name="options"/>, each naming its configuration key. Empty when valid.</summary>
    public static IReadOnlyList<string> Validate(ServiceBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string p = SectionName;
        var errors = new List<string>();

        ServiceBusConnectionString? parsed = null;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                parsed = ServiceBusConnectionString.Parse(options.ConnectionString);
            }
            catch (FormatException ex)
            {
                // The parser's messages never quote the key, so this is safe to surface.
                errors.Add($"{p}:ConnectionString is not a valid connection string: {ex.Message}");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace))
        {
            errors.Add($"{p}:ConnectionString or {p}:FullyQualifiedNamespace is required when Bus:Transport is ServiceBus.");
        }
        else if (!ServiceBusEndpoint.TryFromNamespace(options.FullyQualifiedNamespace, out _, out var nsError))
        {
            errors.Add($"{p}:FullyQualifiedNamespace is not valid: {nsError}");
        }

        if (!ServiceBusEndpoint.IsValidEntityPath(options.Topic, out var topicError))
        {
            errors.Add($"{p}:Topic is not valid: {topicError}");
        }
        else if (parsed?.EntityPath is { } entityPath && !string.Equals(entityPath, options.Topic, StringComparison.OrdinalIgnoreCase))
        {
            // An entity-level key only opens its own entity: sending elsewhere would be a steady stream of 401s.
            errors.Add($"{p}:Topic '{options.Topic}' differs from EntityPath '{entityPath}' in {p}:ConnectionString.");
        }

        const int min = 1024;
        const int max = 100 * 1024 * 1024;
        if (options.MaxBatchBytes is < min or > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{p}:MaxBatchBytes must be between {min} and {max}; it is {options.MaxBatchBytes}."));
        }

        if (options.MaxMessageBytes is < min or > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{p}:MaxMessageBytes must be between {min} and {max}; it is {options.MaxMessageBytes}."));
        }

        if (options.MaxBatchMessages is < 1 or > 4500)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{p}:MaxBatchMessages must be between 1 and 4500; it is {options.MaxBatchMessages}."));
        }

        if (options.MaxConcurrentSends is < 1 or > 256)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{p}:MaxConcurrentSends must be between 1 and 256; it is {options.MaxConcurrentSends}."));
        }

        if (options.SendTimeout <= TimeSpan.Zero || options.SendTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{p}:SendTimeout must be more than 0 and at most 00:10:00; it is {options.SendTimeout:c}.");
        }

        if (options.SasTokenLifetime < TimeSpan.FromMinutes(1) || options.SasTokenLifetime > TimeSpan.FromDays(7))
        {
            errors.Add($"{p}:SasTokenLifetime must be between 00:01:00 and 7.00:00:00; it is {options.SasTokenLifetime:c}.");
        }

        if (options.TokenRenewalMargin < TimeSpan.Zero || options.TokenRenewalMargin >= options.SasTokenLifetime)
        {
            errors.Add($"{p}:TokenRenewalMargin must be at least 0 and less than {p}:SasTokenLifetime; it is {options.TokenRenewalMargin:c}.");
        }

        if (!Enum.IsDefined(options.SendMode))
        {
            errors.Add($"{p}:SendMode must be Batch or Individual.");
        }

        return errors;
    }
}

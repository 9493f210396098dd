using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// JSON console lines with secrets scrubbed. Callback URLs carry a per-job token in their path and
/// framework loggers print request paths, so redaction happens here, at the last moment, for every logger.
/// </summary>
public sealed partial class RedactingJsonFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "redacting-json";

    // Routing ignores case and a hostile or sloppy client may double a slash or encode it (%2F): whatever follows the
    // job id in anything shaped like a callback path is redacted, up to the query string.
    [GeneratedRegex(@"(?i)(/v1/+callbacks/+[^/\s""?]*/+(?:[^/\s""?%]|%(?!2F))*(?:/|%2F)+)[^\s""?]+", RegexOptions.CultureInvariant)]
    private static partial Regex CallbackToken();

    [GeneratedRegex(@"(?i)(SharedAccessKey=|SharedAccessSignature\s|sig=|Password=|x-webhook-secret[""':=\s]+|webhook_secret[""':=\s]+|Bearer\s)[^;&\s""]+", RegexOptions.CultureInvariant)]
    private static partial Regex SecretValue();

    public static string Redact(string? text) =>
        string.IsNullOrEmpty(text) ? text ?? "" : SecretValue().Replace(CallbackToken().Replace(text, "$1***"), "$1***");

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", DateTimeOffset.UtcNow);
            w.WriteString("level", logEntry.LogLevel.ToString());
            w.WriteString("category", logEntry.Category);
            if (logEntry.EventId.Id != 0) w.WriteNumber("eventId", logEntry.EventId.Id);
            w.WriteString("message", Redact(message));
            if (logEntry.Exception is not null) w.WriteString("exception", Redact(logEntry.Exception.ToString()));
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> state)
            {
                w.WriteStartObject("state");
                foreach (var (key, value) in state)
                {
                    if (key == "{OriginalFormat}") continue;
                    w.WriteString(key, Redact(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)));
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        textWriter.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}

/// <summary>
/// The framework's own simple formatter (one readable entry per log, for a person at a terminal), with its
/// output scrubbed by the same rules as the JSON lines.
/// </summary>
public sealed class RedactingSimpleFormatter(IServiceProvider services) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "redacting-simple";

    [ThreadStatic]
    private static StringWriter? t_buffer;

    // Resolved on first use: the built-in formatter is a sibling in the same registration, not a dependency.
    private ConsoleFormatter? _inner;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        _inner ??= services.GetServices<ConsoleFormatter>().First(f => f.Name == ConsoleFormatterNames.Simple);
        var buffer = t_buffer ??= new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        buffer.GetStringBuilder().Clear();
        _inner.Write(logEntry, scopeProvider, buffer);
        textWriter.Write(RedactingJsonFormatter.Redact(buffer.ToString()));
    }
}

public static class LoggingExtensions
{
    /// <summary>Readable entries for a person in Development, JSON lines elsewhere; both redacted.</summary>
    public static ILoggingBuilder AddRedactingConsole(this ILoggingBuilder logging, IHostEnvironment environment)
    {
        logging.ClearProviders();
        var development = environment.IsDevelopment();
        logging.AddConsole(o => o.FormatterName = development ? RedactingSimpleFormatter.FormatterName : RedactingJsonFormatter.FormatterName);
        logging.AddConsoleFormatter<RedactingJsonFormatter, ConsoleFormatterOptions>();
        logging.AddConsoleFormatter<RedactingSimpleFormatter, SimpleConsoleFormatterOptions>();
        return logging;
    }
}

using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Telemetry;

public sealed class LogFormatterTests
{
    private const string Token = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    private const string Secret = "whsec_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    private const string Message =
        $"POST http://127.0.0.1:5000/v1/callbacks/apiframe/job_123/{Token} webhook_secret={Secret} Authorization: Bearer kie-live-key-123 " +
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0a2V5";

    private static (ServiceProvider Services, string FormatterName) Logging(string environment)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddRedactingConsole(new HostingEnvironment { EnvironmentName = environment }));
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName!);
    }

    private static string Format(ServiceProvider services, string formatterName)
    {
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == formatterName);
        var state = new[]
        {
            new KeyValuePair<string, object?>("Url", $"/v1/callbacks/kie/job_9/{Token}"),
            new KeyValuePair<string, object?>("{OriginalFormat}", "{Url}"),
        };
        using var writer = new StringWriter();
        formatter.Write(new LogEntry<KeyValuePair<string, object?>[]>(LogLevel.Warning, "VideoCallbacks.Test", new EventId(7), state,
            new InvalidOperationException(Message), (_, _) => Message), new LoggerExternalScopeProvider(), writer);
        return writer.ToString();
    }

    [Fact]
    public void Development_logs_are_the_simple_formatters_readable_entries_with_tokens_and_secrets_redacted()
    {
        var (services, name) = Logging("Development");
        using var _ = services;

        var text = Format(services, name);

        Assert.Equal(RedactingSimpleFormatter.FormatterName, name);
        Assert.StartsWith("warn: VideoCallbacks.Test[7]", text.TrimStart(), StringComparison.Ordinal);
        AssertRedacted(text);
        Assert.Contains("/v1/callbacks/apiframe/job_123/***", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Logs_outside_Development_are_JSON_lines_with_tokens_and_secrets_redacted()
    {
        var (services, name) = Logging("Production");
        using var _ = services;

        var text = Format(services, name);

        Assert.Equal(RedactingJsonFormatter.FormatterName, name);
        var line = Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("Warning", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("/v1/callbacks/kie/job_9/***", json.RootElement.GetProperty("state").GetProperty("Url").GetString());
        AssertRedacted(text);
    }

    private static void AssertRedacted(string text)
    {
        Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("kie-live-key-123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0a2V5", text, StringComparison.Ordinal);
    }
}

using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary>What a command action gets: its parse result, a ready client and the output streams.</summary>
internal sealed class CommandContext(ParseResult parseResult, AdminClient client, CliContext io, bool json)
{
    public ParseResult ParseResult { get; } = parseResult;

    public AdminClient Client { get; } = client;

    public CliContext Io { get; } = io;

    public TextWriter Out => Io.Out;

    public TextWriter Error => Io.Error;

    /// <summary>True with <c>--json</c>: print what the API answered, verbatim.</summary>
    public bool Json { get; } = json;

    public T? Get<T>(Option<T> option) => ParseResult.GetValue(option);

    public T? Get<T>(Argument<T> argument) => ParseResult.GetValue(argument);

    public void WriteRaw(string rawJson)
    {
        if (!string.IsNullOrWhiteSpace(rawJson))
        {
            Out.WriteLine(rawJson.TrimEnd());
        }
    }
}

/// <summary>
/// Binds command actions: resolves the URL and admin key, builds the <see cref="AdminClient"/>,
/// and turns every <see cref="CliException"/> into one line on stderr plus its exit code.
/// </summary>
internal sealed class CommandRunner(CliContext io, GlobalOptions globals)
{
    public CliContext Io { get; } = io;

    public void SetAction(Command command, Func<CommandContext, CancellationToken, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, action, cancellationToken));
    }

    private async Task<int> RunAsync(
        ParseResult parseResult,
        Func<CommandContext, CancellationToken, Task<int>> action,
        CancellationToken cancellationToken)
    {
        string? adminKey = null;
        try
        {
            var baseUrl = ResolveUrl(parseResult);
            adminKey = NonEmpty(parseResult.GetValue(globals.AdminKey)) ?? NonEmpty(Io.Env(GlobalOptions.AdminKeyVariable));
            using var client = new AdminClient(baseUrl, adminKey, Io.Handler);
            var context = new CommandContext(parseResult, client, Io, parseResult.GetValue(globals.Json));
            return await action(context, cancellationToken);
        }
        catch (CliException ex)
        {
            var message = ex.Message;
            if (ex is ApiException { StatusCode: 401 } && adminKey is null)
            {
                message += $" (no admin key given: use --admin-key or set {GlobalOptions.AdminKeyVariable})";
            }

            await WriteErrorAsync(message, adminKey);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await WriteErrorAsync("cancelled", adminKey);
            return ExitCodes.Cancelled;
        }
    }

    private Uri ResolveUrl(ParseResult parseResult)
    {
        var value = NonEmpty(parseResult.GetValue(globals.Url))
            ?? NonEmpty(Io.Env(GlobalOptions.UrlVariable))
            ?? GlobalOptions.DefaultUrl;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"--url: '{value}' is not an absolute http:// or https:// URL");
        }

        return uri;
    }

    private Task WriteErrorAsync(string message, string? adminKey)
    {
        var line = AdminClient.OneLine(message);
        if (!string.IsNullOrEmpty(adminKey))
        {
            line = line.Replace(adminKey, "***", StringComparison.Ordinal);
        }

        return Io.Error.WriteLineAsync("error: " + line);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

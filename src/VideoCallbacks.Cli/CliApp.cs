using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using VideoCallbacks.Cli.Commands;

namespace VideoCallbacks.Cli;

/// <summary>
/// Entry point of the <c>videocallbacks</c> operator CLI. Everything the process touches is a
/// parameter, so tests run it in-process and capture its output.
/// </summary>
public static class CliApp
{
    /// <summary>Runs one command line and returns its exit code.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="stdout">Where results (tables or JSON) go.</param>
    /// <param name="stderr">Where errors, warnings and confirmation prompts go.</param>
    /// <param name="stdin">Where confirmation answers are read from.</param>
    /// <param name="handler">HTTP handler to use instead of a new one (not disposed).</param>
    /// <param name="env">Environment lookup; defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="stdinIsInteractive">
    /// Whether a person can answer prompts on <paramref name="stdin"/>. Null: true only when
    /// <paramref name="stdin"/> is the console's own input and it is not redirected.
    /// </param>
    /// <param name="cancellationToken">Stops the command (exit code 130).</param>
    /// <returns>0 success, 1 API error, 2 usage error or refused confirmation, 3 service unreachable.</returns>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        TextReader stdin,
        HttpMessageHandler? handler = null,
        Func<string, string?>? env = null,
        bool? stdinIsInteractive = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(stdin);

        var io = new CliContext(
            stdout,
            stderr,
            stdin,
            env ?? Environment.GetEnvironmentVariable,
            handler,
            () => stdinIsInteractive ?? (ReferenceEquals(stdin, Console.In) && !Console.IsInputRedirected));

        try
        {
            var root = BuildRootCommand(io);
            var parseResult = root.Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                await WriteParseErrorsAsync(parseResult, stderr);
                return ExitCodes.Usage;
            }

            var configuration = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            };
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("error: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            // Never a stack trace: one line, like every other error.
            await stderr.WriteLineAsync("error: " + AdminClient.OneLine(ex.Message));
            return ExitCodes.ApiError;
        }
    }

    /// <summary>The command tree: events, callbacks, jobs, audit, plus the global options.</summary>
    internal static RootCommand BuildRootCommand(CliContext io)
    {
        var globals = new GlobalOptions();
        var runner = new CommandRunner(io, globals);
        var root = new RootCommand("videocallbacks: operator CLI for the VideoCallbacks admin API");
        globals.AddTo(root);
        root.Add(EventsCommands.Create(runner));
        root.Add(CallbacksCommands.Create(runner));
        root.Add(JobsCommands.Create(runner));
        root.Add(AuditCommands.Create(runner));
        root.Add(ArchivesCommands.Create(runner));
        return root;
    }

    private static async Task WriteParseErrorsAsync(ParseResult parseResult, TextWriter stderr)
    {
        foreach (var error in parseResult.Errors)
        {
            await stderr.WriteLineAsync("error: " + AdminClient.OneLine(error.Message));
        }

        await stderr.WriteLineAsync($"Run '{CommandPath(parseResult.CommandResult)} --help' for usage.");
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is not null; current = current.Parent)
        {
            if (current is CommandResult command)
            {
                names.Add(command.Command is RootCommand ? "videocallbacks" : command.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}

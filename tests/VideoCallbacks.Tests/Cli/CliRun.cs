using VideoCallbacks.Cli;

namespace VideoCallbacks.Tests.Cli;

/// <summary>One in-process run of the real CLI: its exit code and what it wrote.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] OutLines => Lines(Stdout);

    public string[] ErrLines => Lines(Stderr);

    public override string ToString() => $"exit {ExitCode}; stdout: {Stdout}; stderr: {Stderr}";

    /// <summary>
    /// Runs the CLI with <paramref name="args"/>, reading its environment only through <paramref name="env"/> (so
    /// the developer's own VIDEOCALLBACKS_* variables never leak into a test) and stdin from <paramref name="stdin"/>.
    /// </summary>
    public static async Task<CliRun> ExecuteAsync(string[] args, Func<string, string?> env, string stdin = "", bool? interactive = false)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        using var input = new StringReader(stdin);
        var exitCode = await CliApp.RunAsync(args, stdout, stderr, input, env: env, stdinIsInteractive: interactive);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

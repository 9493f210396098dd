namespace VideoCallbacks.Cli;

/// <summary>The process-level things a command touches: streams, environment, HTTP handler.</summary>
internal sealed class CliContext(
    TextWriter stdout,
    TextWriter stderr,
    TextReader stdin,
    Func<string, string?> env,
    HttpMessageHandler? handler,
    Func<bool> stdinIsInteractive)
{
    private readonly Lazy<bool> _interactive = new(stdinIsInteractive);

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public TextReader In { get; } = stdin;

    public Func<string, string?> Env { get; } = env;

    public HttpMessageHandler? Handler { get; } = handler;

    /// <summary>True when a person can answer a confirmation prompt on <see cref="In"/>.</summary>
    public bool StdinIsInteractive => _interactive.Value;
}

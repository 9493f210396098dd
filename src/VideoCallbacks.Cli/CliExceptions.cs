namespace VideoCallbacks.Cli;

/// <summary>A failure the CLI reports as one line on stderr, with a fixed exit code.</summary>
public class CliException : Exception
{
    public CliException() : this("unexpected error") { }

    public CliException(string message) : this(message, ExitCodes.ApiError) { }

    public CliException(string message, Exception innerException)
        : base(message, innerException) => ExitCode = ExitCodes.ApiError;

    public CliException(string message, int exitCode, Exception? innerException = null)
        : base(message, innerException) => ExitCode = exitCode;

    public int ExitCode { get; }
}

/// <summary>Bad usage or a refused confirmation (exit code 2).</summary>
public sealed class UsageException : CliException
{
    public UsageException() : this("invalid usage") { }

    public UsageException(string message) : base(message, ExitCodes.Usage) { }

    public UsageException(string message, Exception innerException)
        : base(message, ExitCodes.Usage, innerException) { }
}

/// <summary>The service could not be reached at all (exit code 3).</summary>
public sealed class ServiceUnreachableException : CliException
{
    public ServiceUnreachableException() : this("cannot reach the service") { }

    public ServiceUnreachableException(string message) : base(message, ExitCodes.Unreachable) { }

    public ServiceUnreachableException(string message, Exception innerException)
        : base(message, ExitCodes.Unreachable, innerException) { }
}

/// <summary>The service answered with an error status, or with something that is not the expected JSON (exit code 1).</summary>
public sealed class ApiException : CliException
{
    public ApiException() : this("the service answered with an error") { }

    public ApiException(string message) : base(message, ExitCodes.ApiError) { }

    public ApiException(string message, Exception innerException)
        : base(message, ExitCodes.ApiError, innerException) { }

    public ApiException(int statusCode, string message, ProblemDetails? problem)
        : base(message, ExitCodes.ApiError)
    {
        StatusCode = statusCode;
        Problem = problem;
    }

    /// <summary>HTTP status, or null when the failure was not an error status (e.g. unreadable JSON).</summary>
    public int? StatusCode { get; }

    public ProblemDetails? Problem { get; }
}

public static class ExitCodes
{
    public const int Success = 0;
    public const int ApiError = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int Cancelled = 130;
}

using System.Text.Json;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.HttpResults;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>RFC 9457 answers with messages a person can act on.</summary>
public static class Problems
{
    public static ValidationProblem Validation(IEnumerable<ValidationFailure> failures) =>
        TypedResults.ValidationProblem(
            failures.GroupBy(f => CamelCase(f.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).Distinct().ToArray()),
            title: "The request is invalid.",
            detail: "Fix the fields listed in 'errors' and send the request again.");

    public static ValidationProblem Validation(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] },
            title: "The request is invalid.", detail: message);

    /// <summary>A 404 problem (application/problem+json) that names what was looked for.</summary>
    public static ProblemHttpResult NotFound(string title, string detail) => Status(StatusCodes.Status404NotFound, title, detail);

    public static ProblemHttpResult Status(int status, string title, string? detail = null, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: extensions);

    /// <summary>Malformed bodies on typed endpoints become 400s that say what was wrong, not bare 500s or empty 400s.</summary>
    public static IServiceCollection AddProblemDetailsWithBindingErrors(this IServiceCollection services)
    {
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            if (context.Exception is not BadHttpRequestException bad) return;
            // A client's mistake: a short Debug line, never an Error with a stack trace or the client's input.
            context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(Problems).FullName!)
                .LogDebug("Bad request to {Path}: {Reason}", context.HttpContext.Request.Path, Shorten(bad.InnerException?.GetType().Name ?? bad.Message));
            if (bad.InnerException is JsonException json)
            {
                var (field, message) = DescribeJsonError(json, "this request");
                context.ProblemDetails.Title = "The request is invalid.";
                context.ProblemDetails.Detail = message;
                context.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
            }
            else
            {
                context.ProblemDetails.Title = "The request is malformed.";
                context.ProblemDetails.Detail = Shorten(bad.Message);
            }
        });
    }

    /// <summary>
    /// A database that cannot be reached (down, restarting, out of connections) is a 503 the client may retry, as the
    /// callback endpoint answers; anything else unexpected stays a 500.
    /// </summary>
    public static int StatusFor(Exception exception) => exception switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        System.Data.Common.DbException e when Storage.StoreOutage.IsUnreachable(e) => StatusCodes.Status503ServiceUnavailable,
        Callbacks.StoreUnavailableException => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// The exception handler logs only the service's own faults: not a bad request (logged briefly above), and not a
    /// request refused because the database is unreachable (counted; <see cref="Storage.StoreOutage"/> says it once). True = do not log.
    /// </summary>
    public static bool IsNotOurFault(Microsoft.AspNetCore.Diagnostics.ExceptionHandlerSuppressDiagnosticsContext context)
    {
        if (context.Exception is BadHttpRequestException) return true;
        if (StatusFor(context.Exception) != StatusCodes.Status503ServiceUnavailable) return false;
        var outage = context.HttpContext.RequestServices.GetRequiredService<Storage.StoreOutage>();
        outage.RequestRefused();
        // Met here before any connection failed to open (it dropped mid-query): the tracker says it once.
        if (!outage.IsDown && (context.Exception.InnerException ?? context.Exception) is var cause && Storage.StoreOutage.IsUnreachable(cause))
        {
            outage.ConnectionFailed(cause);
        }
        return true;
    }

    /// <summary>Names the field a JSON body got wrong, in words a client can act on.</summary>
    /// <param name="what">What the body is, e.g. "an extension request".</param>
    public static (string Field, string Message) DescribeJsonError(JsonException e, string what)
    {
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            // System.Text.Json names the unknown property in quotes; the path points at its parent.
            var start = e.Message.IndexOf('\'', StringComparison.Ordinal);
            var end = start >= 0 ? e.Message.IndexOf('\'', start + 1) : -1;
            var name = end > start ? Shorten(e.Message[(start + 1)..end]) : "body";
            return (name, $"'{name}' is not a field of {what} (check its spelling); nothing was done.");
        }
        var field = e.Path is { Length: > 2 } path ? Shorten(path.TrimStart('$', '.')) : "body";
        return field == "body"
            ? (field, $"The body is not valid JSON: {Shorten(FirstSentence(e.Message))}")
            : (field, $"'{field}' has the wrong JSON type or format (numbers are numbers such as 0, text fields are strings, metadata is an object of strings).");
    }

    /// <summary>Client input echoed in an answer or a log is cut short: a 5,000-digit value helps no one.</summary>
    public static string Shorten(string text, int max = 200) => text.Length <= max ? text : text[..max] + "…";

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". Path", StringComparison.Ordinal);
        return cut > 0 ? message[..(cut + 1)] : message;
    }

    private static string CamelCase(string name) =>
        string.Join('.', name.Split('.').Select(part => JsonNamingPolicy.CamelCase.ConvertName(part)));
}

/// <summary>Reads a request body up to a limit, so a huge body is refused rather than buffered.</summary>
public static class LimitedBody
{
    public sealed class TooLargeException(int limit) : Exception($"The request body is larger than {limit} bytes.")
    {
        public int Limit { get; } = limit;
    }

    public static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) throw new TooLargeException(limit);
        using var buffer = new MemoryStream(request.ContentLength is { } n and > 0 ? (int)n : 1024);
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) throw new TooLargeException(limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

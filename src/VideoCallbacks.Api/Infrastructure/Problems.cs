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

    /// <summary>A 404 that names what was looked for.</summary>
    public static NotFound<Microsoft.AspNetCore.Mvc.ProblemDetails> NotFound(string title, string detail) =>
        TypedResults.NotFound(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status404NotFound, Title = title, Detail = detail });

    public static ProblemHttpResult Status(int status, string title, string? detail = null, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: extensions);

    /// <summary>Malformed bodies on typed endpoints become 400s that say what was wrong, not bare 500s or empty 400s.</summary>
    public static IServiceCollection AddProblemDetailsWithBindingErrors(this IServiceCollection services)
    {
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            if (context.Exception is BadHttpRequestException bad)
            {
                context.ProblemDetails.Title = "The request is malformed.";
                context.ProblemDetails.Detail = bad.InnerException is JsonException json
                    ? $"{bad.Message} {json.Message}"
                    : bad.Message;
            }
        });
    }

    public static int StatusFor(Exception exception) =>
        exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;

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

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace VideoCallbacks.Cli;

/// <summary>
/// Thin typed wrapper over the VideoCallbacks admin HTTP API. Error statuses become
/// <see cref="ApiException"/> (with the problem details), connection failures
/// <see cref="ServiceUnreachableException"/>.
/// </summary>
public sealed class AdminClient : IDisposable
{
    public const string ApiKeyHeader = "X-Api-Key";

    private readonly HttpClient _http;

    public AdminClient(Uri baseUrl, string? adminKey, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        BaseUrl = EnsureTrailingSlash(baseUrl);
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = BaseUrl;
        _http.Timeout = timeout ?? TimeSpan.FromSeconds(100);
        _http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        _http.DefaultRequestHeaders.Accept.ParseAdd("application/problem+json");
        if (!string.IsNullOrEmpty(adminKey))
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(ApiKeyHeader, adminKey);
        }
    }

    public Uri BaseUrl { get; }

    /// <summary>The base URL as shown in messages: no user info, no trailing slash.</summary>
    public string DisplayUrl =>
        BaseUrl.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/');

    public Task<ApiResponse<Page<AdminEvent>>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = "v1/admin/events" + QueryString(
            ("status", query.Status),
            ("provider", query.Provider),
            ("type", query.Type),
            ("client", query.Client),
            ("since", FormatTimestamp(query.Since)),
            ("until", FormatTimestamp(query.Until)),
            ("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)),
            ("cursor", query.Cursor));
        return SendAsync<Page<AdminEvent>>(HttpMethod.Get, path, null, cancellationToken);
    }

    public Task<ApiResponse<EventReplayResult>> ReplayEventAsync(string eventId, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        var path = $"v1/admin/events/{Uri.EscapeDataString(eventId)}/replay" + (force ? "?force=true" : "");
        return SendAsync<EventReplayResult>(HttpMethod.Post, path, null, cancellationToken);
    }

    public Task<ApiResponse<BulkReplayResult>> ReplayEventsAsync(ReplayFilter request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<BulkReplayResult>(HttpMethod.Post, "v1/admin/events/replay", request, cancellationToken);
    }

    public Task<ApiResponse<Page<AdminCallback>>> ListCallbacksAsync(CallbackQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = "v1/admin/callbacks" + QueryString(
            ("outcome", query.Outcome),
            ("provider", query.Provider),
            ("since", FormatTimestamp(query.Since)),
            ("until", FormatTimestamp(query.Until)),
            ("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)),
            ("cursor", query.Cursor));
        return SendAsync<Page<AdminCallback>>(HttpMethod.Get, path, null, cancellationToken);
    }

    public Task<ApiResponse<ReprocessResult>> ReprocessCallbackAsync(long callbackId, CancellationToken cancellationToken = default)
    {
        var path = $"v1/admin/callbacks/{callbackId.ToString(CultureInfo.InvariantCulture)}/reprocess";
        return SendAsync<ReprocessResult>(HttpMethod.Post, path, null, cancellationToken);
    }

    public Task<ApiResponse<JobResponse>> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return SendAsync<JobResponse>(HttpMethod.Get, $"v1/extensions/{Uri.EscapeDataString(jobId)}", null, cancellationToken);
    }

    public Task<ApiResponse<Page<AdminArchive>>> ListArchivesAsync(string? status, int? limit, string? cursor, CancellationToken cancellationToken = default)
    {
        var path = "v1/admin/archives" + QueryString(
            ("status", status),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)),
            ("cursor", cursor));
        return SendAsync<Page<AdminArchive>>(HttpMethod.Get, path, null, cancellationToken);
    }

    public Task<ApiResponse<ArchiveRetryResult>> RetryArchiveAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return SendAsync<ArchiveRetryResult>(HttpMethod.Post, $"v1/admin/extensions/{Uri.EscapeDataString(jobId)}/archive", null, cancellationToken);
    }

    public Task<ApiResponse<Page<AuditEntry>>> ListAuditAsync(int? limit, string? cursor, CancellationToken cancellationToken = default)
    {
        var path = "v1/admin/audit" + QueryString(
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)),
            ("cursor", cursor));
        return SendAsync<Page<AuditEntry>>(HttpMethod.Get, path, null, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>ISO-8601 in UTC, e.g. <c>2025-01-31T12:00:00Z</c> (fraction only when there is one).</summary>
    public static string? FormatTimestamp(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string QueryString(params (string Name, string? Value)[] parameters)
    {
        var builder = new StringBuilder();
        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            builder.Append(builder.Length == 0 ? '?' : '&')
                .Append(name)
                .Append('=')
                .Append(Uri.EscapeDataString(value));
        }

        return builder.ToString();
    }

    private async Task<ApiResponse<T>> SendAsync<T>(HttpMethod method, string relativePath, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl, relativePath));
        if (body is not null)
        {
            var json = JsonSerializer.Serialize(body, body.GetType(), CliJson.Options);
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        string text;
        HttpStatusCode status;
        string? reasonPhrase;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            status = response.StatusCode;
            reasonPhrase = response.ReasonPhrase;
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServiceUnreachableException(
                $"cannot reach {DisplayUrl}: no answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }

        if ((int)status is < 200 or > 299)
        {
            throw ErrorFromResponse((int)status, reasonPhrase, text);
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(text, CliJson.Options)
                ?? throw new ApiException($"unexpected response from {method} /{StripQuery(relativePath)}: empty body");
            return new ApiResponse<T>(value, text);
        }
        catch (JsonException ex)
        {
            throw new ApiException($"unexpected response from {method} /{StripQuery(relativePath)}: not the expected JSON ({OneLine(ex.Message)})", ex);
        }
    }

    private ServiceUnreachableException Unreachable(HttpRequestException ex)
    {
        // HttpRequestException says e.g. "Connection refused (127.0.0.1:5000)"; when it only
        // points at its inner exception, the innermost message is the useful one.
        var message = ex.Message;
        if (message.Contains("inner exception", StringComparison.OrdinalIgnoreCase) && ex.InnerException is not null)
        {
            var inner = ex.InnerException;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            message = inner.Message;
        }

        return new ServiceUnreachableException($"cannot reach {DisplayUrl}: {OneLine(message)}", ex);
    }

    internal static ApiException ErrorFromResponse(int status, string? reasonPhrase, string body)
    {
        ProblemDetails? problem = null;
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemDetails>(body, CliJson.Options);
            }
            catch (JsonException)
            {
                problem = null;
            }
        }

        var reason = string.IsNullOrWhiteSpace(reasonPhrase) ? ReasonFor(status) : reasonPhrase.Trim();
        var head = string.IsNullOrEmpty(reason)
            ? status.ToString(CultureInfo.InvariantCulture)
            : $"{status.ToString(CultureInfo.InvariantCulture)} {reason}";

        string? explanation = null;
        if (problem is not null)
        {
            explanation = !string.IsNullOrWhiteSpace(problem.Detail) ? problem.Detail : problem.Title;
            if (string.Equals(explanation?.Trim(), reason, StringComparison.OrdinalIgnoreCase))
            {
                explanation = null; // "403 Forbidden", not "403 Forbidden: Forbidden"
            }

            if (problem.Errors is { Count: > 0 } errors)
            {
                var fields = string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value ?? [])}"));
                explanation = string.IsNullOrWhiteSpace(explanation) ? fields : $"{explanation} ({fields})";
            }
        }
        else if (!string.IsNullOrWhiteSpace(body) && !body.TrimStart().StartsWith('<'))
        {
            explanation = Truncate(OneLine(body), 200);
        }

        var message = string.IsNullOrWhiteSpace(explanation) ? head : $"{head}: {OneLine(explanation)}";
        return new ApiException(status, message, problem);
    }

    private static string ReasonFor(int status)
    {
        var name = ((HttpStatusCode)status).ToString();
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return "";
        }

        // "UnprocessableEntity" -> "Unprocessable Entity"
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1]))
            {
                builder.Append(' ');
            }

            builder.Append(name[i]);
        }

        return builder.ToString();
    }

    private static Uri EnsureTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    private static string StripQuery(string path)
    {
        var index = path.IndexOf('?', StringComparison.Ordinal);
        return index < 0 ? path : path[..index];
    }

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

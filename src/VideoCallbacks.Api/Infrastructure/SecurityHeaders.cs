namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// Hardening headers on every response: no MIME sniffing, no referrer, no framing (clickjacking); and a
/// Content-Security-Policy on every HTML page (the API docs UI, the dashboard), set when the response starts so it
/// sees the content type the endpoint chose.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>Same-origin scripts and styles only; inline styles for the API docs UI; no framing, no plugins.</summary>
    public const string HtmlPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>For everything that is not a page: nothing may be loaded or framed from it.</summary>
    public const string ApiPolicy = "default-src 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var response = context.Response;
        response.OnStarting(() =>
        {
            var headers = response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                var html = response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true;
                headers.ContentSecurityPolicy = html ? HtmlPolicy : ApiPolicy;
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}

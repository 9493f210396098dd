namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 18, defect 8: hardening headers on every response, and a Content-Security-Policy on every HTML page.</summary>
public sealed class SecurityHeadersTests
{
    [Fact]
    public async Task Every_response_says_nosniff_no_referrer_and_no_framing_and_html_pages_carry_a_CSP()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.Anonymous;

        foreach (var (client, path) in new[] { (anonymous, "/swagger/index.html"), (anonymous, "/healthz"), (anonymous, "/openapi/v1.json"),
                     (app.Driver.Http, "/v1/events"), (anonymous, "/v1/events"), (app.Driver.Http, "/v1/extensions/job_missing") })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            var csp = Header(response, "Content-Security-Policy");
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            if (response.Content.Headers.ContentType?.MediaType == "text/html")
            {
                Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
                Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
            }
        }
        using var page = await anonymous.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content)
        : throw new Xunit.Sdk.XunitException($"{response.RequestMessage?.RequestUri?.AbsolutePath}: no {name} header");
}

using System.Net;
using System.Text.RegularExpressions;

namespace VideoCallbacks.Testing;

/// <summary>Signs in to the dashboard over plain HTTP, as a browser's form would (for tests and benchmarks that need no browser).</summary>
public static class DashboardSignIn
{
    /// <summary>A client that neither follows redirects nor keeps cookies: callers see and send each cookie themselves.</summary>
    public static HttpClient Client(Uri baseUrl) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Fetches the sign-in form (its token and antiforgery cookie) and posts <paramref name="key"/>.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, string key)
    {
        using var form = await http.GetAsync("/admin/signin");
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = Token(await form.Content.ReadAsStringAsync()), ["apiKey"] = key }),
        };
        request.Headers.Add("Cookie", Cookie(form, "vc_antiforgery"));
        return await http.SendAsync(request);
    }

    /// <summary>Signs in and answers the session cookie (<c>vc_dashboard=…</c>).</summary>
    public static async Task<string> SessionAsync(HttpClient http, string key = TestKeys.Admin)
    {
        using var response = await PostAsync(http, key);
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"dashboard sign-in answered {(int)response.StatusCode}");
        return Cookie(response, "vc_dashboard=");
    }

    /// <summary>The first Set-Cookie of <paramref name="response"/> whose name starts so, as <c>name=value</c>.</summary>
    public static string Cookie(HttpResponseMessage response, string prefix) =>
        response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).First(c => c.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string Token(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "name=\"__csrf\" value=\"([^\"]+)\"").Groups[1].Value);
}

using System.Text.RegularExpressions;

namespace VideoCallbacks.Tests.Dashboard;

/// <summary>Dashboard sessions over plain HTTP: shared by instances, refused once signed out, forms refused without their token.</summary>
public sealed class DashboardSessionTests
{
    [Fact]
    public async Task A_session_started_on_one_instance_is_accepted_by_another_and_signing_out_on_it_ends_it_on_both()
    {
        await using var a = await TestApp.StartAsync(Db.Postgres);
        await using var b = await TestApp.StartAsync(Db.Postgres, connectionString: a.StorageConnectionString);
        using var onA = Browserless(a.BaseUrl);

        var cookie = await SignInAsync(onA, TestApp.AdminKey);

        using var onB = Browserless(b.BaseUrl);
        var page = await GetAsync(onB, "/admin/events", cookie);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h1>Failed events</h1>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var token = Token(await page.Content.ReadAsStringAsync());
        using var signOut = new HttpRequestMessage(HttpMethod.Post, "/admin/signout") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = token }) };
        signOut.Headers.Add("Cookie", cookie + "; " + page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).First(c => c.StartsWith("vc_antiforgery", StringComparison.Ordinal)));
        using var signedOut = await onB.SendAsync(signOut);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);

        using var again = await GetAsync(onA, "/admin/events", cookie);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal("/admin/signin", again.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_changes_nothing()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var http = Browserless(app.BaseUrl);
        var cookie = await SignInAsync(http, TestApp.AdminKey);

        using var forged = new HttpRequestMessage(HttpMethod.Post, "/admin/events/replay")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" }),
        };
        forged.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(forged);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("error=1", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(await app.Driver.AuditAsync());
    }

    [Fact]
    public async Task Wrong_keys_at_the_sign_in_form_count_against_the_failed_auth_throttle()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["RateLimits:FailedAuthPerMinute"] = "3";
        });
        using var http = Browserless(app.BaseUrl);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++) statuses.Add((await PostSignInAsync(http, "wrong-key-" + i)).Response.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    private static HttpClient Browserless(Uri baseUrl) => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseUrl };

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await http.SendAsync(request);
    }

    /// <summary>Fetches the sign-in form (its token and antiforgery cookie) and posts the key; answers the response and that cookie.</summary>
    private static async Task<(HttpResponseMessage Response, string AntiforgeryCookie)> PostSignInAsync(HttpClient http, string key)
    {
        using var form = await http.GetAsync("/admin/signin");
        var antiforgery = form.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).First(c => c.StartsWith("vc_antiforgery", StringComparison.Ordinal));
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = Token(await form.Content.ReadAsStringAsync()), ["apiKey"] = key }),
        };
        request.Headers.Add("Cookie", antiforgery);
        return (await http.SendAsync(request), antiforgery);
    }

    private static async Task<string> SignInAsync(HttpClient http, string key)
    {
        var (response, _) = await PostSignInAsync(http, key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("vc_dashboard=", StringComparison.Ordinal));
    }

    private static string Token(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "name=\"__csrf\" value=\"([^\"]+)\"").Groups[1].Value);
}

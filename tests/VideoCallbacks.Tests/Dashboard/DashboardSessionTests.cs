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
        signOut.Headers.Add("Cookie", cookie + "; " + DashboardSignIn.Cookie(page, "vc_antiforgery"));
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
        for (var i = 0; i < 6; i++)
        {
            using var response = await DashboardSignIn.PostAsync(http, "wrong-key-" + i);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    private static HttpClient Browserless(Uri baseUrl) => DashboardSignIn.Client(baseUrl);

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await http.SendAsync(request);
    }

    private static Task<string> SignInAsync(HttpClient http, string key) => DashboardSignIn.SessionAsync(http, key);

    private static string Token(string html) => DashboardSignIn.Token(html);
}

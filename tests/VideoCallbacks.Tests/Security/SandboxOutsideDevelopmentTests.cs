using System.Net.Http.Headers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 8: the sandbox outside Development.</summary>
public sealed class SandboxOutsideDevelopmentTests
{
    [Fact]
    public async Task The_service_refuses_to_start_with_the_sandbox_on_outside_Development_unless_explicitly_allowed()
    {
        var e = await TestApp.StartFailureAsync(Db.Sqlite, s => s["Sandbox:UnsafeAllowOutsideDevelopment"] = "false");

        Assert.Contains("Sandbox:UnsafeAllowOutsideDevelopment", e.ToString());
    }

    [Fact]
    public async Task Outside_Development_the_sandbox_control_endpoints_need_an_admin_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        var anonymous = app.Driver.Anonymous;
        var client = app.Driver.Http;
        var admin = app.Driver.Admin;

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/sandbox/_sim/requests")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/sandbox/_sim/requests")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/sandbox/_sim/requests")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/sandbox/_sim/callbacks/any/resend", null)).StatusCode);
    }

    [Fact]
    public async Task The_sandbox_never_posts_callbacks_to_a_url_outside_this_service()
    {
        using var victim = WireMockServer.Start();
        victim.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200));
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.Anonymous;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sandbox/kie/api/v1/mj/generateVideoExtend")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { taskType = "mj_video_extend_auto", taskId = "src-outside", index = 0, callBackUrl = $"{victim.Url}/hook" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sim-kie-key");

        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, (await response.JsonAsync()).GetProperty("code").GetInt32());

        var state = app.Get<SimulatorState>();
        var recorded = await Wait.UntilAsync(() => Task.FromResult(state.Callbacks.Where(c => c.Url.StartsWith(victim.Url!, StringComparison.Ordinal)).ToList()),
            c => c.Count > 0, "the simulator's record of the refused callback");
        Assert.All(recorded, c => Assert.Null(c.StatusCode));
        Assert.Empty(victim.LogEntries);
    }
}

using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using static VideoCallbacks.Tests.Security.MisbehavingProvider;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 7: provider answers are read up to 1 MB; past it they are malformed answers.</summary>
public sealed class ProviderAnswerLimitTests
{
    private static readonly string Huge = "{\"code\":200,\"data\":{\"taskId\":\"t\"},\"pad\":\"" + new string('x', 3 * 1024 * 1024) + "\"}";

    [Theory, BothDatabases]
    public async Task An_oversized_submit_answer_is_a_malformed_answer_with_an_unknown_outcome_not_a_memory_spike(Db db)
    {
        using var provider = WireMockServer.Start();
        provider.Given(Request.Create().WithPath("/api/v1/mj/generateVideoExtend").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Huge));
        await using var app = await StartServiceAsync(db, provider);
        var client = app.Driver.Http;

        using var response = await client.PostJsonAsync("/v1/extensions", new { provider = "kie", sourceTaskId = "src-huge", index = 0, mode = "auto" });

        // The submit contract for a 2xx we cannot read: the task may exist, so the outcome is unknown (504), kept, never resubmitted.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Contains("more than 1024 KB", problem.GetProperty("detail").GetString());
        var job = await (await client.GetAsync($"/v1/extensions/{problem.GetProperty("jobId").GetString()}")).JsonAsync();
        Assert.Equal("submitted", job.GetProperty("status").GetString());
        Assert.Equal("submission_unknown", job.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("more than 1024 KB", job.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_oversized_status_answer_is_reported_as_unreadable_without_reading_it_whole()
    {
        using var provider = WireMockServer.Start();
        provider.Given(Request.Create().WithPath("/status").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(Huge));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{provider.Url}/status");

        var result = await StatusQuery.RunAsync(http, request, "Kie.ai", _ => throw new InvalidOperationException("must not parse"), CancellationToken.None);

        Assert.Null(result.Observation);
        Assert.Contains("more than 1024 KB", result.Problem);
    }

    [Fact]
    public async Task An_answer_just_under_the_limit_is_read_whole()
    {
        using var provider = WireMockServer.Start();
        var body = "{\"pad\":\"" + new string('x', ProviderHttp.MaxAnswerBytes - 100) + "\"}";
        provider.Given(Request.Create().WithPath("/ok").UsingGet()).RespondWith(Response.Create().WithBody(body));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{provider.Url}/ok");

        var (answer, failure) = await ProviderHttp.SendOnceAsync(http, request, TimeSpan.FromSeconds(30), "Kie.ai", CancellationToken.None);

        Assert.Null(failure);
        Assert.False(answer!.Oversized);
        Assert.Equal(body, answer.Body);
    }
}

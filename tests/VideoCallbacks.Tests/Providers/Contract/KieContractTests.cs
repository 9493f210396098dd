using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static VideoCallbacks.Tests.Providers.Contract.ProviderStub;

namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>Kie.ai's wire contract (shared/providers/kie-extend-mj-video.txt, CALLBACKS.md), pinned against WireMock.</summary>
public sealed class KieContractTests : ContractTests
{
    private const string SubmitPath = "/api/v1/mj/generateVideoExtend";
    private const string StatusPath = "/api/v1/mj/record-info";

    private static ExtensionRequest Manual(int index = 2, string? watermark = "acme") => new()
    {
        Provider = "kie", SourceTaskId = "ee603959-debb-48d1-98c4-a6d1c717eba6", Index = index, Mode = "manual",
        Prompt = "the spacecraft accelerates into a nebula", Watermark = watermark,
    };

    private void SubmitAnswers(int httpStatus, string body, string? retryAfter = null)
    {
        var response = Response.Create().WithStatusCode(httpStatus).WithHeader("Content-Type", "application/json").WithBody(body);
        if (retryAfter is not null) response = response.WithHeader("Retry-After", retryAfter);
        Stub.Server.Given(Request.Create().WithPath(SubmitPath).UsingPost()).RespondWith(response);
    }

    private static string Envelope(int code, string msg) => JsonSerializer.Serialize(new { code, msg, data = (object?)null });

    [Fact]
    public async Task Manual_submission_posts_the_documented_fields_with_bearer_auth_and_the_callback_url()
    {
        SubmitAnswers(200, """{"code":200,"msg":"success","data":{"taskId":"40d90dd1c6fddsa0a7dssa2a08366149"}}""");
        var callback = $"{CallbackBase}/kie/job_1/tok";

        var result = await Stub.Kie.SubmitAsync(Submit(Manual(), callback), CancellationToken.None);

        Assert.Equal(SubmitOutcome.Accepted, result.Outcome);
        Assert.Equal("40d90dd1c6fddsa0a7dssa2a08366149", result.TaskId);
        var sent = Stub.OnlyRequest(SubmitPath);
        Assert.Equal("POST", sent.Method);
        Assert.Equal($"Bearer {KieKey}", Header(sent, "Authorization"));
        Assert.StartsWith("application/json", Header(sent, "Content-Type"));
        Assert.Equal(new Dictionary<string, JsonValueKind>
        {
            ["taskType"] = JsonValueKind.String, ["taskId"] = JsonValueKind.String, ["index"] = JsonValueKind.Number,
            ["prompt"] = JsonValueKind.String, ["waterMark"] = JsonValueKind.String, ["callBackUrl"] = JsonValueKind.String,
        }, Shape(sent));
        var body = Json(sent);
        Assert.Equal("mj_video_extend_manual", body.GetProperty("taskType").GetString());
        Assert.Equal("ee603959-debb-48d1-98c4-a6d1c717eba6", body.GetProperty("taskId").GetString());
        Assert.Equal(2, body.GetProperty("index").GetInt32());
        Assert.Equal("acme", body.GetProperty("waterMark").GetString());
        Assert.Equal(callback, body.GetProperty("callBackUrl").GetString());
    }

    [Fact]
    public async Task Auto_submission_sends_the_auto_task_type_and_neither_prompt_nor_watermark()
    {
        SubmitAnswers(200, """{"code":200,"msg":"success","data":{"taskId":"t-auto"}}""");
        var request = new ExtensionRequest { Provider = "kie", SourceTaskId = "src-auto", Index = 0, Mode = "auto" };

        await Stub.Kie.SubmitAsync(Submit(request, $"{CallbackBase}/kie/job_2/tok"), CancellationToken.None);

        var sent = Stub.OnlyRequest(SubmitPath);
        Assert.Equal(["callBackUrl", "index", "taskId", "taskType"], Shape(sent).Keys.Order());
        Assert.Equal("mj_video_extend_auto", Json(sent).GetProperty("taskType").GetString());
        Assert.Equal(0, Json(sent).GetProperty("index").GetInt32());
    }

    [Theory]
    [InlineData(401, SubmitOutcome.Unavailable, "credentials")]
    [InlineData(402, SubmitOutcome.Unavailable, "insufficient credits")]
    [InlineData(422, SubmitOutcome.Invalid, "prompt violates the content policy")]
    [InlineData(455, SubmitOutcome.Unavailable, "maintenance")]
    [InlineData(500, SubmitOutcome.Unavailable, "code 500")]
    [InlineData(501, SubmitOutcome.Unavailable, "code 501")]
    [InlineData(505, SubmitOutcome.Unavailable, "code 505")]
    public async Task Refusal_codes_in_the_body_of_an_HTTP_200_are_classified_and_nothing_is_retried(int code, SubmitOutcome expected, string message)
    {
        var msg = code switch { 422 => "The prompt violates the content policy", 455 => "system maintenance", _ => "refused" };
        SubmitAnswers(200, Envelope(code, msg));

        var result = await Stub.Kie.SubmitAsync(Submit(Manual()), CancellationToken.None);

        Assert.Equal(expected, result.Outcome);
        Assert.True(result.NothingCreated);
        Assert.Contains(message, result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Single(Stub.Requests(SubmitPath));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(402)]
    public async Task The_same_codes_as_HTTP_statuses_are_classified_alike(int code)
    {
        SubmitAnswers(code, Envelope(code, "refused"), retryAfter: code == 429 ? "7" : null);

        var result = await Stub.Kie.SubmitAsync(Submit(Manual()), CancellationToken.None);

        Assert.Equal(code == 429 ? SubmitOutcome.RateLimited : SubmitOutcome.Unavailable, result.Outcome);
        if (code == 429) Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
        Assert.Single(Stub.Requests(SubmitPath));
    }

    [Fact]
    public async Task Rate_limit_in_the_body_carries_the_Retry_After_header()
    {
        SubmitAnswers(200, Envelope(429, "Rate limited"), retryAfter: "12");

        var result = await Stub.Kie.SubmitAsync(Submit(Manual()), CancellationToken.None);

        Assert.Equal(SubmitOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(12), result.RetryAfter);
    }

    [Fact]
    public async Task Html_error_page_with_a_5xx_status_is_unavailable()
    {
        Stub.Server.Given(Request.Create().WithPath(SubmitPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(502).WithHeader("Content-Type", "text/html").WithBody("<html>bad gateway</html>"));

        var result = await Stub.Kie.SubmitAsync(Submit(Manual()), CancellationToken.None);

        Assert.Equal(SubmitOutcome.Unavailable, result.Outcome);
        Assert.Single(Stub.Requests(SubmitPath));
    }

    public static TheoryData<string, string?, string?> RecordInfoShapes() => new()
    {
        { """{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":0,"resultInfoJson":null}}""", JobStatuses.Processing, null },
        { """{"code":200,"msg":"success","data":{"taskId":"t1","taskType":"mj_video_extend_manual","successFlag":1,"resultInfoJson":{"resultUrls":[{"resultUrl":"https://cdn.example/1.mp4"}]},"errorCode":null,"errorMessage":null}}""", JobStatuses.Completed, "https://cdn.example/1.mp4" },
        { """{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":1,"resultInfoJson":"{\"resultUrls\":[\"https://cdn.example/2.mp4\"]}"}}""", JobStatuses.Completed, "https://cdn.example/2.mp4" },
        { """{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":2,"errorCode":"400","errorMessage":"content policy"}}""", JobStatuses.Failed, "content policy" },
        { """{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":3,"errorCode":null,"errorMessage":"generation failed"}}""", JobStatuses.Failed, "generation failed" },
        { """{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":7}}""", null, "unknown successFlag" },
        { """{"code":404,"msg":"task not found","data":null}""", null, "task not found" },
        { """{"code":200,"msg":"success"}""", null, "without data" },
    };

    [Theory]
    [MemberData(nameof(RecordInfoShapes))]
    public async Task Record_info_is_a_GET_with_bearer_auth_and_every_documented_shape_is_read(string body, string? status, string? detail)
    {
        Stub.Server.Given(Request.Create().WithPath(StatusPath).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

        var result = await Stub.Kie.GetStatusAsync("t1", CancellationToken.None);

        var sent = Stub.OnlyRequest(StatusPath);
        Assert.Equal("GET", sent.Method);
        Assert.Equal($"Bearer {KieKey}", Header(sent, "Authorization"));
        Assert.Equal("t1", sent.Query!["taskId"].Single());
        Assert.Equal(status, result.Observation?.Status);
        if (status == JobStatuses.Completed) Assert.Equal([detail!], result.Observation!.VideoUrls);
        else if (status == JobStatuses.Failed) Assert.Equal(detail, result.Observation!.Error!.Message);
        else if (detail is not null) Assert.Contains(detail, result.Problem);
    }

    [Fact]
    public async Task Status_query_is_retried_after_a_server_error()
    {
        var request = Request.Create().WithPath(StatusPath).UsingGet();
        Stub.Server.Given(request).InScenario("flaky").WillSetStateTo("recovered").RespondWith(Response.Create().WithStatusCode(500));
        Stub.Server.Given(request).InScenario("flaky").WhenStateIs("recovered")
            .RespondWith(Response.Create().WithBody("""{"code":200,"msg":"success","data":{"successFlag":0}}"""));

        var result = await Stub.Kie.GetStatusAsync("t1", CancellationToken.None);

        Assert.Equal(JobStatuses.Processing, result.Observation?.Status);
        Assert.Equal(2, Stub.Requests(StatusPath).Count);
    }
}

using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static VideoCallbacks.Tests.Providers.Contract.ProviderStub;

namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>Apiframe's wire contract (shared/providers/apiframe-extend-video.md, CALLBACKS.md), pinned against WireMock.</summary>
public sealed class ApiframeContractTests : ContractTests
{
    private const string SubmitPath = "/imagine-video-extend";
    private const string FetchPath = "/fetch";

    private static ExtensionRequest Extend(int index = 0, string? motion = null, string? imageUrl = null) => new()
    {
        Provider = "apiframe", SourceTaskId = "29e983ca-7e86-4017-a9e3-ef6fe9cd5f2a", Index = index, Prompt = "a cat dancing",
        Motion = motion, ImageUrl = imageUrl,
    };

    private void SubmitAnswers(int status, string body, string? retryAfter = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        if (retryAfter is not null) response = response.WithHeader("Retry-After", retryAfter);
        Stub.Server.Given(Request.Create().WithPath(SubmitPath).UsingPost()).RespondWith(response);
    }

    [Theory]
    [InlineData(0, "1")]
    [InlineData(1, "2")]
    [InlineData(2, "3")]
    [InlineData(3, "4")]
    public async Task Submission_posts_the_documented_fields_with_the_raw_key_and_a_one_based_string_index(int index, string expected)
    {
        SubmitAnswers(200, """{"task_id":"29e983ca-7e86-4017-a9e3-ef6fe9cd5f2a"}""");
        var callback = $"{CallbackBase}/apiframe/job_1/tok";

        var result = await Stub.Apiframe.SubmitAsync(Submit(Extend(index, "high", "https://img.example/start.png"), callback, "per-job-secret"), CancellationToken.None);

        Assert.Equal(SubmitOutcome.Accepted, result.Outcome);
        Assert.Equal("29e983ca-7e86-4017-a9e3-ef6fe9cd5f2a", result.TaskId);
        var sent = Stub.OnlyRequest(SubmitPath);
        Assert.Equal("POST", sent.Method);
        Assert.Equal(ApiframeKey, Header(sent, "Authorization"));
        Assert.StartsWith("application/json", Header(sent, "Content-Type"));
        Assert.Equal(new Dictionary<string, JsonValueKind>
        {
            ["parent_task_id"] = JsonValueKind.String, ["index"] = JsonValueKind.String, ["prompt"] = JsonValueKind.String,
            ["image_url"] = JsonValueKind.String, ["motion"] = JsonValueKind.String,
            ["webhook_url"] = JsonValueKind.String, ["webhook_secret"] = JsonValueKind.String,
        }, Shape(sent));
        var body = Json(sent);
        Assert.Equal(expected, body.GetProperty("index").GetString());
        Assert.Equal("high", body.GetProperty("motion").GetString());
        Assert.Equal(callback, body.GetProperty("webhook_url").GetString());
        Assert.Equal("per-job-secret", body.GetProperty("webhook_secret").GetString());
    }

    [Fact]
    public async Task Optional_fields_left_out_are_not_sent()
    {
        SubmitAnswers(200, """{"task_id":"t-2"}""");

        await Stub.Apiframe.SubmitAsync(Submit(Extend(), $"{CallbackBase}/apiframe/job_2/tok", "s"), CancellationToken.None);

        Assert.Equal(["index", "parent_task_id", "prompt", "webhook_secret", "webhook_url"], Shape(Stub.OnlyRequest(SubmitPath)).Keys.Order());
    }

    [Theory]
    [InlineData(400, """{"errors":[{"msg":"Invalid request"}]}""", SubmitOutcome.Invalid, "Invalid request")]
    [InlineData(422, """{"errors":[{"msg":"prompt is required"}]}""", SubmitOutcome.Invalid, "prompt is required")]
    [InlineData(401, "{}", SubmitOutcome.Unavailable, "credentials")]
    [InlineData(402, """{"message":"Not enough credits"}""", SubmitOutcome.Unavailable, "insufficient credits")]
    [InlineData(455, "{}", SubmitOutcome.Unavailable, "HTTP 455")]
    [InlineData(500, "{}", SubmitOutcome.Unavailable, "HTTP 500")]
    [InlineData(501, "{}", SubmitOutcome.Unavailable, "HTTP 501")]
    [InlineData(505, "{}", SubmitOutcome.Unavailable, "HTTP 505")]
    public async Task Refusals_in_Apiframes_format_are_classified_and_sent_once(int status, string body, SubmitOutcome expected, string message)
    {
        SubmitAnswers(status, body);

        var result = await Stub.Apiframe.SubmitAsync(Submit(Extend()), CancellationToken.None);

        Assert.Equal(expected, result.Outcome);
        Assert.True(result.NothingCreated);
        Assert.Contains(message, result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Single(Stub.Requests(SubmitPath));
    }

    [Fact]
    public async Task Rate_limit_carries_Retry_After()
    {
        SubmitAnswers(429, """{"errors":[{"msg":"Too many requests"}]}""", retryAfter: "9");

        var result = await Stub.Apiframe.SubmitAsync(Submit(Extend()), CancellationToken.None);

        Assert.Equal(SubmitOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(9), result.RetryAfter);
        Assert.Single(Stub.Requests(SubmitPath));
    }

    public static TheoryData<string, string?, string?> FetchShapes() => new()
    {
        { """{"task_id":"t1","task_type":"imagine-video-extend","status":"processing","percentage":"40"}""", JobStatuses.Processing, "40" },
        { """{"task_id":"t1","task_type":"imagine-video-extend","status":"pending"}""", JobStatuses.Processing, null },
        { """{"task_id":"t1","task_type":"imagine-video-extend","status":"retrying","percentage":10}""", JobStatuses.Processing, "10" },
        { """{"task_id":"t1","task_type":"imagine-video-extend","video_urls":["https://cdn.example/1.mp4","https://cdn.example/2.mp4"]}""", JobStatuses.Completed, "https://cdn.example/1.mp4" },
        { """{"task_id":"t1","task_type":"imagine-video-extend","status":"finished","percentage":100,"video_urls":["https://cdn.example/3.mp4"]}""", JobStatuses.Completed, "https://cdn.example/3.mp4" },
        { """{"task_id":"t1","status":"failed","message":"moderation"}""", JobStatuses.Failed, "moderation" },
        { """{"task_id":"t1","error":"upstream failed"}""", JobStatuses.Failed, "upstream failed" },
        { """{"task_id":"t1","status":"finished"}""", null, "without video_urls" },
        { """{"task_id":"t1","status":"teleporting"}""", null, "unknown status" },
    };

    [Theory]
    [MemberData(nameof(FetchShapes))]
    public async Task Fetch_is_a_POST_of_the_task_id_with_the_raw_key_and_every_documented_shape_is_read(string body, string? status, string? detail)
    {
        Stub.Server.Given(Request.Create().WithPath(FetchPath).UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(body));

        var result = await Stub.Apiframe.GetStatusAsync("t1", CancellationToken.None);

        var sent = Stub.OnlyRequest(FetchPath);
        Assert.Equal(ApiframeKey, Header(sent, "Authorization"));
        Assert.Equal(new Dictionary<string, JsonValueKind> { ["task_id"] = JsonValueKind.String }, Shape(sent));
        Assert.Equal("t1", Json(sent).GetProperty("task_id").GetString());
        Assert.Equal(status, result.Observation?.Status);
        switch (status)
        {
            case JobStatuses.Processing:
                Assert.Equal(detail is null ? null : int.Parse(detail, System.Globalization.CultureInfo.InvariantCulture), result.Observation!.Progress);
                break;
            case JobStatuses.Completed:
                Assert.Equal(detail, result.Observation!.VideoUrls![0]);
                break;
            case JobStatuses.Failed:
                Assert.Equal(detail, result.Observation!.Error!.Message);
                break;
            default:
                Assert.Contains(detail!, result.Problem);
                break;
        }
    }

    [Fact]
    public async Task Fetch_waits_out_a_short_Retry_After_and_asks_again()
    {
        var request = Request.Create().WithPath(FetchPath).UsingPost();
        Stub.Server.Given(request).InScenario("limited").WillSetStateTo("free")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1"));
        Stub.Server.Given(request).InScenario("limited").WhenStateIs("free")
            .RespondWith(Response.Create().WithBody("""{"task_id":"t1","video_urls":["https://cdn.example/1.mp4"]}"""));

        var result = await Stub.Apiframe.GetStatusAsync("t1", CancellationToken.None);

        Assert.Equal(JobStatuses.Completed, result.Observation?.Status);
        Assert.Equal(2, Stub.Requests(FetchPath).Count);
    }

    [Fact]
    public async Task Fetch_hands_a_long_Retry_After_back_to_the_scheduler_instead_of_waiting()
    {
        Stub.Server.Given(Request.Create().WithPath(FetchPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "3600"));

        var result = await Stub.Apiframe.GetStatusAsync("t1", CancellationToken.None);

        Assert.Null(result.Observation);
        Assert.Equal(TimeSpan.FromHours(1), result.RetryAfter);
        Assert.Single(Stub.Requests(FetchPath));
    }
}

using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static VideoCallbacks.Tests.Providers.Contract.ProviderStub;

namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>NanoGPT's wire contract (shared/providers/nanogpt-*.txt, CALLBACKS.md), pinned against WireMock.</summary>
public sealed class NanoGptContractTests : ContractTests
{
    private const string ExtendPath = "/api/generate-video/extend";
    private const string GeneratePath = "/api/generate-video";
    private const string StatusPath = "/api/video/status";

    private static ExtensionRequest TaskBased(int index = 1) => new() { Provider = "nanogpt", SourceTaskId = "vid_m1abc123def456", Index = index };

    private static string Accepted(string runId) =>
        $$"""{"success":true,"runId":"{{runId}}","id":"{{runId}}","taskId":"{{runId}}","status":"pending","model":"midjourney-video","cost":0.1}""";

    private static string Error(string message, int status) => JsonSerializer.Serialize(new { error = new { message, status } });

    private void Answers(string path, int status, string body, string? retryAfter = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        if (retryAfter is not null) response = response.WithHeader("Retry-After", retryAfter);
        Stub.Server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(response);
    }

    [Fact]
    public async Task Task_based_extension_posts_runId_and_a_numeric_index_with_x_api_key()
    {
        Answers(ExtendPath, 200, Accepted("vid_new1"));

        var result = await Stub.NanoGpt.SubmitAsync(Submit(TaskBased(3)), CancellationToken.None);

        Assert.Equal(SubmitOutcome.Accepted, result.Outcome);
        Assert.Equal("vid_new1", result.TaskId);
        var sent = Stub.OnlyRequest(ExtendPath);
        Assert.Equal("POST", sent.Method);
        Assert.Equal(NanoGptKey, Header(sent, "x-api-key"));
        Assert.False(HasHeader(sent, "Authorization"), "one auth scheme only");
        // The pages prefer runId ("taskId" a legacy alias) while the OpenAPI schema requires taskId: both, same id.
        Assert.Equal(new Dictionary<string, JsonValueKind> { ["runId"] = JsonValueKind.String, ["taskId"] = JsonValueKind.String, ["index"] = JsonValueKind.Number }, Shape(sent));
        Assert.Equal("vid_m1abc123def456", Json(sent).GetProperty("runId").GetString());
        Assert.Equal("vid_m1abc123def456", Json(sent).GetProperty("taskId").GetString());
        Assert.Equal(3, Json(sent).GetProperty("index").GetInt32());
    }

    [Fact]
    public async Task Source_video_extension_posts_model_prompt_and_videoUrl_to_generate_video()
    {
        Answers(GeneratePath, 200, Accepted("vid_new2"));
        var request = new ExtensionRequest
        {
            Provider = "nanogpt", Model = "wan-wavespeed-25-extend", Prompt = "warm light", VideoUrl = "https://example.com/source.mp4",
        };

        var result = await Stub.NanoGpt.SubmitAsync(Submit(request), CancellationToken.None);

        Assert.Equal("vid_new2", result.TaskId);
        var sent = Stub.OnlyRequest(GeneratePath);
        Assert.Equal(NanoGptKey, Header(sent, "x-api-key"));
        Assert.Equal(new Dictionary<string, JsonValueKind>
        {
            ["model"] = JsonValueKind.String, ["prompt"] = JsonValueKind.String, ["videoUrl"] = JsonValueKind.String,
        }, Shape(sent));
        Assert.Empty(Stub.Requests(ExtendPath));
    }

    [Theory]
    [InlineData(400, SubmitOutcome.Invalid, "index must be 0-3")]
    [InlineData(403, SubmitOutcome.Invalid, "index must be 0-3")]
    [InlineData(422, SubmitOutcome.Invalid, "index must be 0-3")]
    [InlineData(401, SubmitOutcome.Unavailable, "credentials")]
    [InlineData(402, SubmitOutcome.Unavailable, "insufficient credits")]
    [InlineData(455, SubmitOutcome.Unavailable, "HTTP 455")]
    [InlineData(500, SubmitOutcome.Unavailable, "HTTP 500")]
    [InlineData(501, SubmitOutcome.Unavailable, "HTTP 501")]
    [InlineData(505, SubmitOutcome.Unavailable, "HTTP 505")]
    public async Task Refusals_in_NanoGpts_error_format_are_classified_and_sent_once(int status, SubmitOutcome expected, string message)
    {
        Answers(ExtendPath, status, Error("index must be 0-3", status));

        var result = await Stub.NanoGpt.SubmitAsync(Submit(TaskBased()), CancellationToken.None);

        Assert.Equal(expected, result.Outcome);
        Assert.True(result.NothingCreated);
        Assert.Contains(message, result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Single(Stub.Requests(ExtendPath));
    }

    [Fact]
    public async Task Rate_limit_carries_Retry_After()
    {
        Answers(ExtendPath, 429, Error("20 requests per minute", 429), retryAfter: "30");

        var result = await Stub.NanoGpt.SubmitAsync(Submit(TaskBased()), CancellationToken.None);

        Assert.Equal(SubmitOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), result.RetryAfter);
        Assert.Equal("20 requests per minute", result.Message);
    }

    public static TheoryData<string, string?, string?> StatusShapes() => new()
    {
        { """{"requestId":"vid_1","status":"queued","progress":0}""", JobStatuses.Submitted, null },
        { """{"data":{"status":"IN_QUEUE","request_id":"vid_1"}}""", JobStatuses.Submitted, null },
        { """{"requestId":"vid_1","status":"processing","progress":40}""", JobStatuses.Processing, "40" },
        { """{"data":{"status":"IN_PROGRESS","request_id":"vid_1","progress":"55"}}""", JobStatuses.Processing, "55" },
        { """{"requestId":"vid_1","status":"completed","videoUrl":"https://cdn.example/a.mp4","error":null,"progress":100}""", JobStatuses.Completed, "https://cdn.example/a.mp4" },
        { """{"data":{"status":"COMPLETED","request_id":"vid_1","output":{"video":{"url":"https://cdn.example/b.mp4"}},"error":null}}""", JobStatuses.Completed, "https://cdn.example/b.mp4" },
        { """{"requestId":"vid_1","status":"failed","error":"out of credits"}""", JobStatuses.Failed, "out of credits" },
        { """{"data":{"status":"FAILED","error":"raw","userFriendlyError":"Content policy"}}""", JobStatuses.Failed, "Content policy" },
        { """{"data":{"status":"CANCELED"}}""", JobStatuses.Failed, "cancelled" },
        { """{"requestId":"vid_1","status":"CANCELLED"}""", JobStatuses.Failed, "cancelled" },
        { """{"requestId":"vid_1","status":"completed"}""", null, "without a video URL" },
        { """{"requestId":"vid_1","status":"melting"}""", null, "unknown status" },
    };

    [Theory]
    [MemberData(nameof(StatusShapes))]
    public async Task Status_is_a_GET_by_requestId_with_x_api_key_and_every_documented_shape_is_read(string body, string? status, string? detail)
    {
        Stub.Server.Given(Request.Create().WithPath(StatusPath).UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(body));

        var result = await Stub.NanoGpt.GetStatusAsync("vid_1", CancellationToken.None);

        var sent = Stub.OnlyRequest(StatusPath);
        Assert.Equal("GET", sent.Method);
        Assert.Equal(NanoGptKey, Header(sent, "x-api-key"));
        Assert.Equal("vid_1", sent.Query!["requestId"].Single());
        Assert.Equal(status, result.Observation?.Status);
        switch (status)
        {
            case JobStatuses.Processing:
                Assert.Equal(int.Parse(detail!, System.Globalization.CultureInfo.InvariantCulture), result.Observation!.Progress);
                break;
            case JobStatuses.Completed:
                Assert.Equal([detail!], result.Observation!.VideoUrls);
                break;
            case JobStatuses.Failed:
                Assert.Contains(detail!, result.Observation!.Error!.Message, StringComparison.OrdinalIgnoreCase);
                break;
            case null:
                Assert.Contains(detail!, result.Problem);
                break;
        }
    }

    [Fact]
    public async Task Status_query_that_keeps_failing_reports_a_problem_after_its_retries()
    {
        Stub.Server.Given(Request.Create().WithPath(StatusPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        var result = await Stub.NanoGpt.GetStatusAsync("vid_1", CancellationToken.None);

        Assert.Null(result.Observation);
        Assert.Contains("503", result.Problem);
        // The standard pipeline's retries: one attempt plus three.
        Assert.Equal(4, Stub.Requests(StatusPath).Count);
    }

    [Theory]
    [InlineData(FaultType.MALFORMED_RESPONSE_CHUNK)]
    [InlineData(FaultType.EMPTY_RESPONSE)]
    public async Task Status_query_cut_off_mid_answer_gives_nothing_usable_so_the_worker_asks_again_later(FaultType fault)
    {
        Stub.Server.Given(Request.Create().WithPath(StatusPath).UsingGet()).RespondWith(Response.Create().WithFault(fault));

        var result = await Stub.NanoGpt.GetStatusAsync("vid_1", CancellationToken.None);

        Assert.Null(result.Observation);
        Assert.False(string.IsNullOrEmpty(result.Problem));
    }
}

using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;

namespace VideoCallbacks.Tests.Simulator;

public sealed class SimulatorTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private const string KiePath = "kie/api/v1/mj/generateVideoExtend";
    private const string ApiframePath = "apiframe/imagine-video-extend";
    private const string NanoExtendPath = "nanogpt/api/generate-video/extend";

    // ---- auth -------------------------------------------------------------------------------

    [Fact]
    public async Task Kie_refuses_a_wrong_bearer_key_with_code_401_in_an_http_200_body()
    {
        using var response = await PostAsync(KiePath, KieBody("orig"), ("Authorization", "Bearer wrong"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal(401, body["code"]!.GetValue<int>());
        Assert.False(body.ContainsKey("data"));
    }

    [Fact]
    public async Task Kie_refuses_the_key_without_the_bearer_scheme()
    {
        using var response = await PostAsync(KiePath, KieBody("orig"), ("Authorization", SimulatorFixture.KieKey));

        Assert.Equal(401, (await ReadObjectAsync(response))["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Apiframe_refuses_a_wrong_key_with_http_401_and_an_empty_object()
    {
        using var response = await PostAsync(ApiframePath, ApiframeBody("orig", null, null), ("Authorization", "Bearer " + SimulatorFixture.ApiframeKey));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NanoGpt_refuses_a_missing_key_with_http_401_and_an_error_message()
    {
        using var response = await PostAsync(NanoExtendPath, """{"runId":"vid_orig","index":0}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.False(string.IsNullOrEmpty(body["error"]!["message"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("x-api-key", SimulatorFixture.NanoGptKey)]
    [InlineData("Authorization", "Bearer " + SimulatorFixture.NanoGptKey)]
    public async Task NanoGpt_accepts_the_key_as_x_api_key_or_bearer(string header, string value)
    {
        using var response = await PostAsync(NanoExtendPath, """{"runId":"vid_orig","index":0}""", (header, value));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // ---- Kie --------------------------------------------------------------------------------

    [Fact]
    public async Task Kie_callback_carries_valid_hmac_signature_and_the_documented_success_body()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync("orig-hmac", hook, prompt: "a comet");

        var callback = Assert.Single(await WaitForCallbacksAsync(hook, 1));

        var timestamp = callback.Headers["X-Webhook-Timestamp"];
        Assert.True(long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds));
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 300, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 300);
        Assert.Equal(KieSignature(taskId, timestamp), callback.Headers["X-Webhook-Signature"]);

        var body = JsonNode.Parse(callback.Body)!.AsObject();
        Assert.Equal(200, body["code"]!.GetValue<int>());
        Assert.Equal("success", body["msg"]!.GetValue<string>());
        Assert.Equal(taskId, body["data"]!["taskId"]!.GetValue<string>());
        // promptJson is a JSON string holding JSON.
        var promptJson = body["data"]!["promptJson"]!.GetValue<string>();
        Assert.Equal("a comet", JsonNode.Parse(promptJson)!["prompt"]!.GetValue<string>());
        var urls = body["data"]!["resultUrls"]!.AsArray().Select(u => u!.GetValue<string>()).ToArray();
        Assert.Equal(4, urls.Length);
        Assert.All(urls, url => Assert.StartsWith("https://", url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kie_record_info_reports_success_with_result_url_objects()
    {
        var taskId = await SubmitKieAsync("orig-record", hook: null);

        var data = await WaitForKieRecordAsync(taskId, flag => flag != 0);

        Assert.Equal(1, data["successFlag"]!.GetValue<int>());
        Assert.Equal("mj_video_extend_manual", data["taskType"]!.GetValue<string>());
        var urls = data["resultInfoJson"]!["resultUrls"]!.AsArray();
        Assert.Equal(4, urls.Count);
        Assert.All(urls, u => Assert.StartsWith("https://", u!["resultUrl"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kie_record_info_answers_code_404_for_an_unknown_task()
    {
        using var response = await SendAsync(HttpMethod.Get, "kie/api/v1/mj/record-info?taskId=nope", null, KieAuth);

        Assert.Equal(404, (await ReadObjectAsync(response))["code"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"taskType":"mj_video_extend_manual","taskId":"orig","index":0}""")]
    [InlineData("""{"taskType":"mj_video_extend_manual","taskId":"orig","index":"0","prompt":"p"}""")]
    [InlineData("""{"taskType":"mj_video_extend_manual","taskId":"orig","index":1.5,"prompt":"p"}""")]
    [InlineData("""{"taskType":"mj_video_extend","taskId":"orig","index":0,"prompt":"p"}""")]
    [InlineData("""{"taskType":"mj_video_extend_auto","index":0}""")]
    public async Task Kie_refuses_invalid_submissions_with_code_422_in_the_body(string json)
    {
        using var response = await PostAsync(KiePath, json, KieAuth);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal(422, body["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(body["msg"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Kie_refuses_a_prompt_longer_than_2000_characters()
    {
        var json = new JsonObject
        {
            ["taskType"] = "mj_video_extend_manual",
            ["taskId"] = "orig",
            ["index"] = 0,
            ["prompt"] = new string('p', 2001),
        }.ToJsonString();

        using var response = await PostAsync(KiePath, json, KieAuth);

        Assert.Equal(422, (await ReadObjectAsync(response))["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Kie_auto_extension_needs_no_prompt()
    {
        using var response = await PostAsync(KiePath, """{"taskType":"mj_video_extend_auto","taskId":"orig","index":3}""", KieAuth);

        var body = await ReadObjectAsync(response);
        Assert.Equal(200, body["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(body["data"]!["taskId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Kie_fail_directive_calls_back_code_501_and_record_info_reports_flag_3()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync("orig~fail=content flagged", hook);

        var callback = Assert.Single(await WaitForCallbacksAsync(hook, 1));
        var body = JsonNode.Parse(callback.Body)!;
        Assert.Equal(501, body["code"]!.GetValue<int>());
        Assert.Equal("content flagged", body["msg"]!.GetValue<string>());
        Assert.Empty(body["data"]!["resultUrls"]!.AsArray());

        var data = await WaitForKieRecordAsync(taskId, flag => flag != 0);
        Assert.Equal(3, data["successFlag"]!.GetValue<int>());
        Assert.Equal("content flagged", data["errorMessage"]!.GetValue<string>());
    }

    [Fact]
    public async Task Kie_retries_a_delivery_that_got_a_non_2xx()
    {
        var hook = fixture.NewHook("failfirst");
        var taskId = await SubmitKieAsync("orig-retry", hook);

        var received = await WaitForCallbacksAsync(hook, 2);

        Assert.Equal(received[0].Body, received[1].Body);
        var attempts = fixture.State.Callbacks.Where(c => c.TaskId == taskId).Select(c => c.StatusCode).ToArray();
        Assert.Equal(new int?[] { 500, 200 }, attempts);
    }

    [Fact]
    public async Task Kie_wrongsecret_sends_a_signature_that_does_not_verify()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync("orig~wrongsecret", hook);

        var callback = Assert.Single(await WaitForCallbacksAsync(hook, 1));

        Assert.NotEqual(KieSignature(taskId, callback.Headers["X-Webhook-Timestamp"]), callback.Headers["X-Webhook-Signature"]);
    }

    [Fact]
    public async Task Kie_late_sends_a_second_contradicting_callback_after_the_final_one()
    {
        var hook = fixture.NewHook();
        await SubmitKieAsync("orig~late", hook);

        var received = await WaitForCallbacksAsync(hook, 2);

        Assert.Equal(200, JsonNode.Parse(received[0].Body)!["code"]!.GetValue<int>());
        Assert.NotEqual(200, JsonNode.Parse(received[1].Body)!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Kie_nocallback_completes_the_task_without_posting()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync("orig~nocallback", hook);

        var data = await WaitForKieRecordAsync(taskId, flag => flag != 0);

        Assert.Equal(1, data["successFlag"]!.GetValue<int>());
        Assert.DoesNotContain(fixture.State.Callbacks, c => c.TaskId == taskId);
        Assert.Empty(fixture.Receiver.For(hook));
    }

    [Theory]
    [InlineData(402)]
    [InlineData(422)]
    [InlineData(500)]
    public async Task Kie_status_directive_answers_that_code_in_the_body(int code)
    {
        using var response = await PostAsync(KiePath, KieBody($"orig~status={code}"), KieAuth);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal(code, body["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(body["msg"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Kie_status_503_comes_back_as_a_gateway_http_503()
    {
        using var response = await PostAsync(KiePath, KieBody("orig~status=503"), KieAuth);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    // ---- Apiframe ---------------------------------------------------------------------------

    [Fact]
    public async Task Apiframe_rejects_a_numeric_index_with_400_and_an_errors_list()
    {
        var json = """{"parent_task_id":"orig","index":1,"prompt":"a comet"}""";

        using var response = await PostAsync(ApiframePath, json, ApiframeAuth);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Contains("index", body["errors"]![0]!["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"parent_task_id":"orig","index":"0","prompt":"p"}""")]
    [InlineData("""{"parent_task_id":"orig","index":"5","prompt":"p"}""")]
    [InlineData("""{"parent_task_id":"orig","index":"1"}""")]
    [InlineData("""{"parent_task_id":"orig","index":"1","prompt":"p","motion":"fast"}""")]
    [InlineData("""{"index":"1","prompt":"p"}""")]
    public async Task Apiframe_rejects_invalid_submissions_with_400(string json)
    {
        using var response = await PostAsync(ApiframePath, json, ApiframeAuth);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Apiframe_sends_string_percentage_progress_then_final_with_the_secret_header()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitApiframeAsync("orig-progress", hook, "s3cret");

        var received = await WaitForCallbacksAsync(hook, 3, r => JsonNode.Parse(r.Body)!.AsObject().ContainsKey("video_urls"));

        Assert.All(received, r => Assert.Equal("s3cret", r.Headers["x-webhook-secret"]));
        var documents = received.Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToArray();
        var progress = documents[..^1];
        Assert.NotEmpty(progress);
        Assert.All(progress, d =>
        {
            Assert.Equal(taskId, d["task_id"]!.GetValue<string>());
            Assert.Equal("imagine-video-extend", d["task_type"]!.GetValue<string>());
            Assert.Equal("processing", d["status"]!.GetValue<string>());
            Assert.Equal(JsonValueKind.String, d["percentage"]!.GetValueKind());
        });
        var final = documents[^1];
        Assert.Equal(taskId, final["task_id"]!.GetValue<string>());
        Assert.Equal(4, final["video_urls"]!.AsArray().Count);
    }

    [Fact]
    public async Task Apiframe_finished_directive_adds_status_and_a_numeric_percentage_to_the_final_document()
    {
        var hook = fixture.NewHook();
        await SubmitApiframeAsync("orig~finished~progress=0", hook, "s");

        var final = JsonNode.Parse(Assert.Single(await WaitForCallbacksAsync(hook, 1)).Body)!;

        Assert.Equal("finished", final["status"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Number, final["percentage"]!.GetValueKind());
        Assert.Equal(4, final["video_urls"]!.AsArray().Count);
    }

    [Fact]
    public async Task Apiframe_late_sends_a_progress_update_after_the_final_result()
    {
        var hook = fixture.NewHook();
        await SubmitApiframeAsync("orig~late~progress=0", hook, "s");

        var received = await WaitForCallbacksAsync(hook, 2);

        Assert.True(JsonNode.Parse(received[0].Body)!.AsObject().ContainsKey("video_urls"));
        Assert.Equal("processing", JsonNode.Parse(received[1].Body)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apiframe_wrongsecret_sends_a_different_secret()
    {
        var hook = fixture.NewHook();
        await SubmitApiframeAsync("orig~wrongsecret~progress=0", hook, "right");

        var callback = Assert.Single(await WaitForCallbacksAsync(hook, 1));

        Assert.NotEqual("right", callback.Headers["x-webhook-secret"]);
    }

    [Fact]
    public async Task Apiframe_fail_directive_posts_a_failed_document_with_the_message()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitApiframeAsync("orig~fail=banned prompt~progress=0", hook, "s");

        var document = JsonNode.Parse(Assert.Single(await WaitForCallbacksAsync(hook, 1)).Body)!;

        Assert.Equal(taskId, document["task_id"]!.GetValue<string>());
        Assert.Equal("failed", document["status"]!.GetValue<string>());
        Assert.Equal("banned prompt", document["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apiframe_fetch_and_fetch_many_return_the_task_documents()
    {
        var first = await SubmitApiframeAsync("orig-fetch-1", null, null);
        var second = await SubmitApiframeAsync("orig-fetch-2", null, null);

        await WaitUntilAsync(() => fixture.State.FindTask(first)!.Status == SimulatedTaskStatus.Completed, "first task completes");
        using var fetched = await PostAsync("apiframe/fetch", $$"""{"task_id":"{{first}}"}""", ApiframeAuth);
        var document = await ReadObjectAsync(fetched);
        Assert.Equal(first, document["task_id"]!.GetValue<string>());
        Assert.Equal(4, document["video_urls"]!.AsArray().Count);

        using var many = await PostAsync("apiframe/fetch-many", $$"""{"task_ids":["{{first}}","{{second}}"]}""", ApiframeAuth);
        var ids = (await ReadObjectAsync(many))["tasks"]!.AsArray().Select(t => t!["task_id"]!.GetValue<string>());
        Assert.Equal(new[] { first, second }, ids);

        using var tooFew = await PostAsync("apiframe/fetch-many", $$"""{"task_ids":["{{first}}"]}""", ApiframeAuth);
        Assert.Equal(HttpStatusCode.BadRequest, tooFew.StatusCode);
    }

    // ---- NanoGPT ----------------------------------------------------------------------------

    [Theory]
    [InlineData("a", new[] { "queued", "processing", "completed" })]
    [InlineData("b", new[] { "IN_QUEUE", "IN_PROGRESS", "COMPLETED" })]
    public async Task NanoGpt_status_steps_through_queued_processing_completed(string shape, string[] expected)
    {
        var runId = await SubmitNanoExtendAsync($"vid_orig~shape={shape}");

        var seen = new List<JsonObject>();
        for (var i = 0; i < 3; i++)
        {
            seen.Add(await NanoStatusAsync(runId, useRunIdParameter: i == 1));
        }

        if (shape == "a")
        {
            Assert.Equal(expected, seen.Select(d => d["status"]!.GetValue<string>()));
            Assert.All(seen, d => Assert.Equal(runId, d["requestId"]!.GetValue<string>()));
            Assert.StartsWith("https://", seen[^1]["videoUrl"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Null(seen[^1]["error"]);
            Assert.Equal(100, seen[^1]["progress"]!.GetValue<int>());
        }
        else
        {
            Assert.Equal(expected, seen.Select(d => d["data"]!["status"]!.GetValue<string>()));
            Assert.All(seen, d => Assert.Equal(runId, d["data"]!["request_id"]!.GetValue<string>()));
            Assert.StartsWith("https://", seen[^1]["data"]!["output"]!["video"]!["url"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Terminal is sticky.
        var again = await NanoStatusAsync(runId);
        Assert.Equal(expected[^1], shape == "a" ? again["status"]!.GetValue<string>() : again["data"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task NanoGpt_steps_and_fail_directives_shape_the_status_sequence()
    {
        var runId = await SubmitNanoExtendAsync("vid_orig~steps=1~fail=out of capacity");

        var first = await NanoStatusAsync(runId);
        var second = await NanoStatusAsync(runId);

        Assert.Equal("queued", first["status"]!.GetValue<string>());
        Assert.Equal("failed", second["status"]!.GetValue<string>());
        Assert.Equal("out of capacity", second["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task NanoGpt_never_directive_keeps_the_job_processing()
    {
        var runId = await SubmitNanoExtendAsync("vid_orig~never");

        for (var i = 0; i < 10; i++)
        {
            await NanoStatusAsync(runId);
        }

        Assert.Equal("processing", (await NanoStatusAsync(runId))["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("videoUrl")]
    [InlineData("videoDataUrl")]
    [InlineData("videoAttachmentId")]
    [InlineData("video")]
    public async Task NanoGpt_extend_refuses_source_video_fields(string field)
    {
        var json = new JsonObject { ["runId"] = "vid_orig", ["index"] = 0, [field] = "https://example.com/v.mp4" }.ToJsonString();

        using var response = await PostAsync(NanoExtendPath, json, NanoAuth);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"taskId":"vid_orig","index":4}""")]
    [InlineData("""{"taskId":"vid_orig","index":"1"}""")]
    [InlineData("""{"index":1}""")]
    public async Task NanoGpt_extend_refuses_a_bad_id_or_index(string json)
    {
        using var response = await PostAsync(NanoExtendPath, json, NanoAuth);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task NanoGpt_generate_video_accepts_a_source_video_and_echoes_the_model()
    {
        var json = """{"model":"wan-wavespeed-25-extend","prompt":"warm light","videoUrl":"https://example.com/v.mp4"}""";

        using var response = await PostAsync("nanogpt/api/generate-video", json, NanoAuth);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal("wan-wavespeed-25-extend", body["model"]!.GetValue<string>());
        Assert.Equal("pending", body["status"]!.GetValue<string>());
        Assert.StartsWith("vid_", body["runId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(body["runId"]!.GetValue<string>(), body["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"prompt":"p","videoUrl":"https://example.com/v.mp4"}""")]
    [InlineData("""{"model":"m","videoUrl":"https://example.com/v.mp4"}""")]
    [InlineData("""{"model":"m","prompt":"p"}""")]
    [InlineData("""{"model":"m","prompt":"p","videoUrl":"http://example.com/v.mp4"}""")]
    public async Task NanoGpt_generate_video_requires_model_prompt_and_an_https_source(string json)
    {
        using var response = await PostAsync("nanogpt/api/generate-video", json, NanoAuth);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    // ---- directives shared by providers -----------------------------------------------------

    [Theory]
    [InlineData("kie")]
    [InlineData("apiframe")]
    public async Task Dup_3_delivers_the_final_callback_three_times(string provider)
    {
        var hook = fixture.NewHook();
        var taskId = provider == "kie"
            ? await SubmitKieAsync("orig~dup=3", hook)
            : await SubmitApiframeAsync("orig~dup=3~progress=0", hook, "s");

        var received = await WaitForCallbacksAsync(hook, 3);

        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.Body).Distinct());
        Assert.Equal(3, fixture.State.Callbacks.Count(c => c.TaskId == taskId));
    }

    [Fact]
    public async Task Kie_status_429_with_retryafter_answers_code_429_over_http_200_with_retry_after()
    {
        using var response = await PostAsync(KiePath, KieBody("orig~status=429~retryafter=7"), KieAuth);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(429, (await ReadObjectAsync(response))["code"]!.GetValue<int>());
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Theory]
    [InlineData(ApiframePath, """{"parent_task_id":"orig~status=429~retryafter=7","index":"1","prompt":"p"}""", "Authorization", SimulatorFixture.ApiframeKey)]
    [InlineData(NanoExtendPath, """{"runId":"vid_orig~status=429~retryafter=7","index":0}""", "x-api-key", SimulatorFixture.NanoGptKey)]
    [InlineData("nanogpt/api/generate-video", """{"model":"m","prompt":"p ~status=429~retryafter=7","videoUrl":"https://example.com/v.mp4"}""", "x-api-key", SimulatorFixture.NanoGptKey)]
    public async Task Status_429_with_retryafter_answers_http_429_with_retry_after(string path, string json, string header, string key)
    {
        using var response = await PostAsync(path, json, (header, key));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Slow_directive_still_answers_normally()
    {
        using var response = await PostAsync(ApiframePath, ApiframeBody("orig~slow=300", null, null), ApiframeAuth);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await ReadObjectAsync(response))["task_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Abort_directive_drops_the_connection_without_an_answer()
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(KiePath, KieBody("orig~abort"), KieAuth));
    }

    [Fact]
    public async Task Resend_posts_the_last_callback_again_and_reports_the_answer()
    {
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync("orig-resend", hook);
        var original = Assert.Single(await WaitForCallbacksAsync(hook, 1));

        using var response = await PostAsync($"_sim/callbacks/{taskId}/resend", "");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, (await ReadObjectAsync(response))["statusCode"]!.GetValue<int>());
        var received = fixture.Receiver.For(hook);
        Assert.Equal(2, received.Count);
        Assert.Equal(original.Body, received[1].Body);
        Assert.Equal(KieSignature(taskId, received[1].Headers["X-Webhook-Timestamp"]), received[1].Headers["X-Webhook-Signature"]);
    }

    [Fact]
    public async Task Resend_of_an_unknown_task_is_404()
    {
        using var response = await PostAsync("_sim/callbacks/nope/resend", "");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Recordings_are_kept_and_served_as_json()
    {
        var marker = "orig-recorded-" + Guid.NewGuid().ToString("N");
        var hook = fixture.NewHook();
        var taskId = await SubmitKieAsync(marker, hook);
        await WaitForCallbacksAsync(hook, 1);

        var request = Assert.Single(fixture.State.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
        Assert.Equal("kie", request.Provider);
        Assert.Equal("POST", request.Method);
        Assert.EndsWith("/kie/api/v1/mj/generateVideoExtend", request.Path, StringComparison.Ordinal);
        Assert.Equal("Bearer " + SimulatorFixture.KieKey, request.Headers["Authorization"]);

        using var requests = await SendAsync(HttpMethod.Get, "_sim/requests?provider=kie", null);
        Assert.Contains(marker, await requests.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var callbacks = await SendAsync(HttpMethod.Get, $"_sim/callbacks?taskId={taskId}", null);
        var list = JsonNode.Parse(await callbacks.Content.ReadAsStringAsync())!.AsArray();
        var recorded = Assert.Single(list);
        Assert.Equal(200, recorded!["statusCode"]!.GetValue<int>());
        Assert.Equal(hook, recorded["url"]!.GetValue<string>());
    }

    [Fact]
    public void Directives_are_parsed_from_anywhere_in_the_string()
    {
        var directives = Directives.Parse("orig-42~dup=3~slow=2000 ~late~fail=out of credits");

        Assert.Equal(3, directives.GetInt("dup", 1));
        Assert.Equal(2000, directives.GetInt("slow", 0));
        Assert.True(directives.Has("late"));
        Assert.Equal("out of credits", directives.ValueOr("fail", "default"));
        Assert.Equal("default", Directives.Parse("x~fail").ValueOr("fail", "default"));
        Assert.False(Directives.Parse("plain-id").Has("dup"));
    }

    [Fact]
    public void Registering_twice_runs_one_background_worker()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddProviderSimulator();
        services.AddProviderSimulator();
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IHostedService>());
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static (string, string) KieAuth => ("Authorization", "Bearer " + SimulatorFixture.KieKey);

    private static (string, string) ApiframeAuth => ("Authorization", SimulatorFixture.ApiframeKey);

    private static (string, string) NanoAuth => ("x-api-key", SimulatorFixture.NanoGptKey);

    private static string KieBody(string sourceTaskId, string? hook = null, string prompt = "continue the scene")
    {
        var body = new JsonObject
        {
            ["taskType"] = "mj_video_extend_manual",
            ["taskId"] = sourceTaskId,
            ["index"] = 0,
            ["prompt"] = prompt,
        };
        if (hook is not null)
        {
            body["callBackUrl"] = hook;
        }

        return body.ToJsonString();
    }

    private static string ApiframeBody(string parentTaskId, string? hook, string? secret)
    {
        var body = new JsonObject { ["parent_task_id"] = parentTaskId, ["index"] = "1", ["prompt"] = "continue the scene" };
        if (hook is not null)
        {
            body["webhook_url"] = hook;
        }

        if (secret is not null)
        {
            body["webhook_secret"] = secret;
        }

        return body.ToJsonString();
    }

    private static string KieSignature(string taskId, string timestamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(SimulatorFixture.KieHmacKey),
            Encoding.UTF8.GetBytes(taskId + "." + timestamp)));

    private async Task<string> SubmitKieAsync(string sourceTaskId, string? hook, string prompt = "continue the scene")
    {
        using var response = await PostAsync(KiePath, KieBody(sourceTaskId, hook, prompt), KieAuth);
        var body = await ReadObjectAsync(response);
        Assert.Equal(200, body["code"]!.GetValue<int>());
        return body["data"]!["taskId"]!.GetValue<string>();
    }

    private async Task<string> SubmitApiframeAsync(string parentTaskId, string? hook, string? secret)
    {
        using var response = await PostAsync(ApiframePath, ApiframeBody(parentTaskId, hook, secret), ApiframeAuth);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ReadObjectAsync(response))["task_id"]!.GetValue<string>();
    }

    private async Task<string> SubmitNanoExtendAsync(string runId)
    {
        using var response = await PostAsync(NanoExtendPath, new JsonObject { ["runId"] = runId, ["index"] = 2 }.ToJsonString(), NanoAuth);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadObjectAsync(response);
        Assert.Equal("pending", body["status"]!.GetValue<string>());
        Assert.Equal("midjourney-video", body["model"]!.GetValue<string>());
        return body["runId"]!.GetValue<string>();
    }

    private async Task<JsonObject> NanoStatusAsync(string runId, bool useRunIdParameter = false)
    {
        var parameter = useRunIdParameter ? "runId" : "requestId";
        using var response = await SendAsync(HttpMethod.Get, $"nanogpt/api/video/status?{parameter}={runId}", null, NanoAuth);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadObjectAsync(response);
    }

    private Task<JsonObject> WaitForKieRecordAsync(string taskId, Func<int, bool> done) =>
        Wait.UntilAsync(async () =>
        {
            using var response = await SendAsync(HttpMethod.Get, $"kie/api/v1/mj/record-info?taskId={taskId}", null, KieAuth);
            var body = await ReadObjectAsync(response);
            Assert.Equal(200, body["code"]!.GetValue<int>());
            return body["data"]!.AsObject();
        }, data => done(data["successFlag"]!.GetValue<int>()), $"the Kie record of {taskId}");

    /// <summary>Polls the receiver until <paramref name="count"/> callbacks (optionally: until one matches <paramref name="until"/>).</summary>
    private async Task<IReadOnlyList<ReceivedCallback>> WaitForCallbacksAsync(string hook, int count, Func<ReceivedCallback, bool>? until = null)
    {
        IReadOnlyList<ReceivedCallback> received = [];
        await WaitUntilAsync(
            () =>
            {
                received = fixture.Receiver.For(hook);
                // The simulator records an attempt only once our answer is back: wait for that too.
                return (until is null ? received.Count >= count : received.Any(until))
                    && fixture.State.Callbacks.Count(c => c.Url == hook) >= received.Count;
            },
            $"{count} callback(s) on {hook}");
        return received;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) =>
        Wait.UntilAsync(() => Task.FromResult(condition()), done => done, what);

    private Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers) =>
        SendAsync(HttpMethod.Post, path, json, headers);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await fixture.Http.SendAsync(request);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
}

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace VideoCallbacks.Tests.Providers;

/// <summary>Edge cases the providers' published documents show (issue 20), decided without a host.</summary>
public sealed class ProviderEdgeCaseTests
{
    private static JsonElement Doc(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Kie_record_info_with_an_undocumented_flag_but_result_urls_is_completed()
    {
        var result = KieFormat.FromRecordInfo(Doc("""
            {"code":200,"msg":"success","data":{"taskId":"t1","successFlag":4,"resultInfoJson":{"resultUrls":["https://cdn.example/1.mp4"]}}}
            """));

        Assert.Equal(JobStatuses.Completed, result.Observation?.Status);
        Assert.Equal(["https://cdn.example/1.mp4"], result.Observation!.VideoUrls!);
    }

    [Fact]
    public void Kie_record_info_with_an_undocumented_flag_and_no_urls_stays_unknown()
    {
        var result = KieFormat.FromRecordInfo(Doc("""{"code":200,"msg":"success","data":{"taskId":"t1","successFlag":4}}"""));

        Assert.Null(result.Observation);
        Assert.Contains("unknown successFlag 4", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Signed_Kie_failure_callback_with_null_data_is_verified_against_the_jobs_task()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var scheme = new KieCallbacks(Options.Create(new KieOptions { WebhookHmacKey = "hmac-key" }), Options.Create(new CallbackOptions()), time);
        var body = scheme.Read(Doc("""{"code":501,"msg":"generation failed","data":null}"""));
        Assert.Null(body.TaskId);
        Assert.Equal(JobStatuses.Failed, body.Observation?.Status);

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var headers = new HeaderDictionary
        {
            [KieCallbacks.TimestampHeader] = timestamp,
            [KieCallbacks.SignatureHeader] = KieCallbacks.Sign("hmac-key", "task-bound", timestamp),
        };

        // The verifier hands the scheme the body's task id, else the job's: the signature is checked against the bound task.
        Assert.Null(scheme.Verify(new CallbackProof(headers, null, "task-bound")));
        Assert.Equal("bad signature", scheme.Verify(new CallbackProof(headers, null, "another-task")));
        Assert.NotNull(scheme.Verify(new CallbackProof(headers, null, null)));
    }

    [Fact]
    public void Stored_callback_headers_keep_every_header_and_no_secret_value()
    {
        var secret = VideoCallbacks.Api.Security.Secrets.NewToken();
        var job = new JobCredentials("job_1", ApiframeProvider.Name, VideoCallbacks.Api.Security.Secrets.Hash("url-token"),
            VideoCallbacks.Api.Security.Secrets.Hash(secret), "t1");
        var headers = new HeaderDictionary
        {
            ["Content-Type"] = "application/json",
            ["User-Agent"] = "apiframe/1.0",
            ["x-webhook-secret"] = secret,
            ["X-Apiframe-Signature"] = "sig-value",
            ["Authorization"] = "Bearer abc",
            ["X-Echo"] = secret,
            ["X-Request-Id"] = "r-1",
        };

        var json = CallbackHeaders.Json(headers, new ApiframeCallbacks().ProofHeaders, job);
        var kept = JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;

        Assert.Equal(headers.Keys.Order(StringComparer.OrdinalIgnoreCase), kept.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal("apiframe/1.0", kept["User-Agent"]);
        Assert.Equal("r-1", kept["X-Request-Id"]);
        Assert.Equal("[redacted: present, 43 characters]", kept["x-webhook-secret"]);
        Assert.StartsWith("[redacted", kept["X-Apiframe-Signature"], StringComparison.Ordinal);
        Assert.StartsWith("[redacted", kept["Authorization"], StringComparison.Ordinal);
        // The job's own secret under a header nobody documented is still recognised and hidden.
        Assert.StartsWith("[redacted", kept["X-Echo"], StringComparison.Ordinal);
        Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        Assert.DoesNotContain("sig-value", json, StringComparison.Ordinal);
    }

    [Fact]
    public void NanoGpt_status_keeps_every_video_url_the_document_carries()
    {
        var result = NanoGptFormat.FromStatus(Doc("""
            {"status":"COMPLETED","output":{"video":{"url":"https://v/0.mp4"},"videos":[{"url":"https://v/1.mp4"},"https://v/2.mp4"]},
             "videoUrls":["https://v/3.mp4","https://v/0.mp4"],"urls":["https://v/4.mp4"]}
            """));

        Assert.Equal(["https://v/0.mp4", "https://v/1.mp4", "https://v/2.mp4", "https://v/3.mp4", "https://v/4.mp4"], result.Observation!.VideoUrls!);
    }
}

using System.Text.Json.Nodes;
using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Every documented provider document, from the fixtures, into provider-neutral observations.</summary>
public sealed class NormalizationTests
{
    private const string Task = "task-0001";

    // ------------------------------------------------------------------ Kie callbacks

    [Theory]
    [InlineData("kie/callback-success.json", 4)]
    [InlineData("kie/callback-success-taskid-top-level.json", 1)]
    [InlineData("kie/callback-success-data-task_id.json", 2)]
    [InlineData("kie/callback-success-unknown-fields.json", 2)]
    public void Kie_success_callback_is_completed_with_its_result_urls(string fixture, int urls)
    {
        var root = Fixture.Json(fixture, Task);
        var (observation, problem) = KieFormat.FromCallback(root);
        Assert.Null(problem);
        Assert.NotNull(observation);
        Assert.Equal(JobStatuses.Completed, observation.Status);
        Assert.Equal(100, observation.Progress);
        Assert.Equal(urls, observation.VideoUrls!.Count);
        Assert.All(observation.VideoUrls, u => Assert.StartsWith($"https://cdn.example.com/{Task}/", u, StringComparison.Ordinal));
        Assert.Null(observation.Error);
    }

    [Theory]
    [InlineData("kie/callback-failure.json", "kie_500", "Internal error while generating the video")]
    [InlineData("kie/callback-failure-501.json", "kie_501", "Generation failed: the prompt was flagged")]
    public void Kie_failure_callback_is_failed_with_the_providers_message(string fixture, string code, string message)
    {
        var (observation, problem) = KieFormat.FromCallback(Fixture.Json(fixture, Task));
        Assert.Null(problem);
        Assert.Equal(JobStatuses.Failed, observation!.Status);
        Assert.Equal(new JobError(code, message), observation.Error);
        Assert.True(observation.VideoUrls is null or { Count: 0 });
    }

    [Theory]
    [InlineData("kie/callback-success.json")]
    [InlineData("kie/callback-success-taskid-top-level.json")]
    [InlineData("kie/callback-success-data-task_id.json")]
    [InlineData("kie/callback-failure.json")]
    public void Kie_task_id_is_read_from_taskId_data_taskId_or_data_task_id(string fixture) =>
        Assert.Equal(Task, KieFormat.TaskId(Fixture.Json(fixture, Task)));

    [Fact]
    public void Kie_task_id_takes_the_first_non_empty_field()
    {
        var root = JsonDocument.Parse("""{"taskId":"","data":{"taskId":null,"task_id":"from-snake"}}""").RootElement;
        Assert.Equal("from-snake", KieFormat.TaskId(root));
        Assert.Null(KieFormat.TaskId(JsonDocument.Parse("""{"code":200,"data":{}}""").RootElement));
    }

    [Theory]
    [InlineData("""{"msg":"success","data":{"taskId":"t","resultUrls":["https://x/0.mp4"]}}""")]
    [InlineData("""{"code":200,"msg":"success","data":{"taskId":"t","resultUrls":[]}}""")]
    [InlineData("""{"code":200,"msg":"success","data":{"taskId":"t"}}""")]
    public void Kie_callback_that_cannot_be_understood_is_a_problem_not_an_observation(string body)
    {
        var (observation, problem) = KieFormat.FromCallback(JsonDocument.Parse(body).RootElement);
        Assert.Null(observation);
        Assert.False(string.IsNullOrWhiteSpace(problem));
    }

    [Fact]
    public void Kie_failure_without_msg_still_fails_with_a_reason()
    {
        var (observation, _) = KieFormat.FromCallback(JsonDocument.Parse("""{"code":455,"data":{"taskId":"t"}}""").RootElement);
        Assert.Equal(JobStatuses.Failed, observation!.Status);
        Assert.Equal("kie_455", observation.Error!.Code);
        Assert.Contains("455", observation.Error.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ Kie record-info

    [Fact]
    public void Kie_record_info_flag_0_is_still_generating()
    {
        var result = KieFormat.FromRecordInfo(Fixture.Json("kie/record-info-generating.json", Task));
        Assert.Null(result.Problem);
        Assert.Equal(JobStatuses.Processing, result.Observation!.Status);
    }

    [Theory]
    [InlineData("kie/record-info-success.json", 4)]
    [InlineData("kie/record-info-success-json-string.json", 2)]
    public void Kie_record_info_flag_1_is_completed_with_result_url_objects(string fixture, int urls)
    {
        var result = KieFormat.FromRecordInfo(Fixture.Json(fixture, Task));
        Assert.Null(result.Problem);
        Assert.Equal(JobStatuses.Completed, result.Observation!.Status);
        Assert.Equal(
            Enumerable.Range(0, urls).Select(n => $"https://cdn.example.com/{Task}/{n}.mp4"),
            result.Observation.VideoUrls!);
    }

    [Theory]
    [InlineData("kie/record-info-failed-2.json", "kie_400", "The task failed to start")]
    [InlineData("kie/record-info-failed-3.json", "kie_501", "Generation failed: the prompt was flagged")]
    [InlineData("kie/record-info-failed-3-no-code.json", "kie_flag_3", "Kie reported the generation failed")]
    public void Kie_record_info_flags_2_and_3_are_failed_with_the_providers_message(string fixture, string code, string message)
    {
        var result = KieFormat.FromRecordInfo(Fixture.Json(fixture, Task));
        Assert.Null(result.Problem);
        Assert.Equal(JobStatuses.Failed, result.Observation!.Status);
        Assert.Equal(new JobError(code, message), result.Observation.Error);
    }

    [Theory]
    [InlineData("""{"code":404,"msg":"Task not found"}""")]
    [InlineData("""{"code":200,"msg":"success"}""")]
    [InlineData("""{"code":200,"msg":"success","data":{"taskId":"t","successFlag":7}}""")]
    public void Kie_record_info_without_a_usable_answer_is_a_problem(string body)
    {
        var result = KieFormat.FromRecordInfo(JsonDocument.Parse(body).RootElement);
        Assert.Null(result.Observation);
        Assert.False(string.IsNullOrWhiteSpace(result.Problem));
    }

    // ------------------------------------------------------------------ Apiframe

    [Theory]
    [InlineData("processing", "\"40\"")]
    [InlineData("processing", "40")]
    [InlineData("starting", "\"40\"")]
    [InlineData("starting", "40")]
    [InlineData("staged", "\"40\"")]
    [InlineData("staged", "40")]
    [InlineData("pending", "\"40\"")]
    [InlineData("pending", "40")]
    [InlineData("retry", "\"40\"")]
    [InlineData("retry", "40")]
    [InlineData("retrying", "\"40\"")]
    [InlineData("retrying", "40.0")]
    [InlineData("PROCESSING", "\"40\"")]
    public void Apiframe_progress_document_is_processing_with_its_percentage(string status, string percentage)
    {
        var root = Fixture.Json("apiframe/progress-template.json", Task, ("STATUS", status), ("\"PERCENTAGE\"", percentage));
        Assert.Equal(Task, ApiframeFormat.TaskId(root));
        var (observation, problem) = ApiframeFormat.FromDocument(root);
        Assert.Null(problem);
        Assert.Equal(ProviderObservation.Processing(40), observation);
    }

    [Theory]
    [InlineData("apiframe/progress-processing.json", 40)]
    [InlineData("apiframe/progress-unknown-fields.json", 55)]
    public void Apiframe_documented_progress_examples_are_processing(string fixture, int percentage)
    {
        var (observation, problem) = ApiframeFormat.FromDocument(Fixture.Json(fixture, Task));
        Assert.Null(problem);
        Assert.Equal(ProviderObservation.Processing(percentage), observation);
    }

    [Fact]
    public void Apiframe_progress_without_percentage_is_processing_with_no_number()
    {
        var (observation, _) = ApiframeFormat.FromDocument(JsonDocument.Parse("""{"task_id":"t","status":"starting"}""").RootElement);
        Assert.Equal(ProviderObservation.Processing(null), observation);
    }

    [Theory]
    [InlineData("apiframe/finished-no-status.json", 4)]
    [InlineData("apiframe/finished-with-status.json", 4)]
    [InlineData("apiframe/finished-unknown-fields.json", 2)]
    public void Apiframe_finished_document_is_completed_with_or_without_status(string fixture, int urls)
    {
        var root = Fixture.Json(fixture, Task);
        Assert.Equal(Task, ApiframeFormat.TaskId(root));
        var (observation, problem) = ApiframeFormat.FromDocument(root);
        Assert.Null(problem);
        Assert.Equal(JobStatuses.Completed, observation!.Status);
        Assert.Equal(Enumerable.Range(1, urls).Select(n => $"https://cdn.example.com/{Task}/{n}.mp4"), observation.VideoUrls!);
    }

    [Theory]
    [InlineData("apiframe/failed-message.json", "Job was blocked by the moderation filter")]
    [InlineData("apiframe/failed-error.json", "Midjourney returned an error: parent task expired")]
    [InlineData("apiframe/failed-no-status-error.json", "Invalid parent task")]
    public void Apiframe_failed_document_carries_message_or_error(string fixture, string message)
    {
        var (observation, problem) = ApiframeFormat.FromDocument(Fixture.Json(fixture, Task));
        Assert.Null(problem);
        Assert.Equal(JobStatuses.Failed, observation!.Status);
        Assert.Equal(new JobError("apiframe_failed", message), observation.Error);
    }

    [Fact]
    public void Apiframe_failed_document_with_an_error_object_uses_its_message()
    {
        var (observation, _) = ApiframeFormat.FromDocument(JsonDocument.Parse(
            """{"task_id":"t","status":"failed","error":{"code":"E42","message":"Parent task not found"}}""").RootElement);
        Assert.Equal("Parent task not found", observation!.Error!.Message);
    }

    [Theory]
    [InlineData("""{"task_id":"t","task_type":"imagine-video-extend","status":"finished"}""")]
    [InlineData("""{"task_id":"t","task_type":"imagine-video-extend","status":"exploded"}""")]
    [InlineData("""{"task_id":"t","task_type":"imagine-video-extend"}""")]
    [InlineData("""{"task_id":"t","video_urls":[]}""")]
    public void Apiframe_document_that_cannot_be_understood_is_a_problem(string body)
    {
        var (observation, problem) = ApiframeFormat.FromDocument(JsonDocument.Parse(body).RootElement);
        Assert.Null(observation);
        Assert.False(string.IsNullOrWhiteSpace(problem));
    }

    [Fact]
    public void Apiframe_fetch_answer_is_read_like_a_callback()
    {
        var result = ApiframeFormat.FromFetch(Fixture.Json("apiframe/finished-no-status.json", Task));
        Assert.Null(result.Problem);
        Assert.Equal(JobStatuses.Completed, result.Observation!.Status);
    }

    // ------------------------------------------------------------------ NanoGPT

    [Theory]
    [InlineData("nanogpt/status-a-queued.json")]
    [InlineData("nanogpt/status-b-in-queue.json")]
    [InlineData("nanogpt/status-a-unknown.json")]
    [InlineData("nanogpt/status-b-unknown.json")]
    public void NanoGpt_queued_or_unknown_is_no_news(string fixture)
    {
        var result = NanoGptFormat.FromStatus(Fixture.Json(fixture, Task));
        Assert.Null(result.Problem);
        Assert.Equal(JobStatuses.Submitted, result.Observation!.Status);
    }

    [Theory]
    [InlineData("nanogpt/status-a-processing.json", 40)]
    [InlineData("nanogpt/status-b-in-progress.json", null)]
    public void NanoGpt_processing_is_processing(string fixture, int? progress)
    {
        var result = NanoGptFormat.FromStatus(Fixture.Json(fixture, Task));
        Assert.Equal(ProviderObservation.Processing(progress), result.Observation);
    }

    [Theory]
    [InlineData("nanogpt/status-a-completed.json")]
    [InlineData("nanogpt/status-b-completed.json")]
    public void NanoGpt_completed_carries_the_video_url_in_both_shapes(string fixture)
    {
        var result = NanoGptFormat.FromStatus(Fixture.Json(fixture, Task));
        Assert.Equal(JobStatuses.Completed, result.Observation!.Status);
        Assert.Equal([$"https://cdn.example.com/{Task}/0.mp4"], result.Observation.VideoUrls!);
    }

    [Theory]
    [InlineData("nanogpt/status-a-failed.json", "The video could not be generated. You were not charged.")]
    [InlineData("nanogpt/status-b-failed.json", "The video could not be generated. You were not charged.")]
    [InlineData("nanogpt/status-a-failed-error-only.json", "content policy violation")]
    [InlineData("nanogpt/status-b-failed-error-only.json", "content policy violation")]
    public void NanoGpt_failed_prefers_userFriendlyError_over_error(string fixture, string message)
    {
        var result = NanoGptFormat.FromStatus(Fixture.Json(fixture, Task));
        Assert.Equal(JobStatuses.Failed, result.Observation!.Status);
        Assert.Equal(new JobError("nanogpt_failed", message), result.Observation.Error);
    }

    [Theory]
    [InlineData("nanogpt/status-a-cancelled.json")]
    [InlineData("nanogpt/status-b-canceled.json")]
    public void NanoGpt_cancelled_is_failed(string fixture)
    {
        var result = NanoGptFormat.FromStatus(Fixture.Json(fixture, Task));
        Assert.Equal(JobStatuses.Failed, result.Observation!.Status);
        Assert.Equal("nanogpt_cancelled", result.Observation.Error!.Code);
    }

    public static TheoryData<string, string, string> Spellings()
    {
        var data = new TheoryData<string, string, string>();
        (string Spelling, string Template, string Expected)[] rows =
        [
            ("queued", "queued", JobStatuses.Submitted), ("IN_QUEUE", "queued", JobStatuses.Submitted),
            ("processing", "processing", JobStatuses.Processing), ("IN_PROGRESS", "processing", JobStatuses.Processing),
            ("completed", "completed", JobStatuses.Completed), ("COMPLETED", "completed", JobStatuses.Completed),
            ("failed", "failed", JobStatuses.Failed), ("FAILED", "failed", JobStatuses.Failed),
            ("cancelled", "cancelled", JobStatuses.Failed), ("CANCELED", "cancelled", JobStatuses.Failed),
            ("CANCELLED", "cancelled", JobStatuses.Failed), ("canceled", "cancelled", JobStatuses.Failed),
            ("unknown", "queued", JobStatuses.Submitted), ("UNKNOWN", "queued", JobStatuses.Submitted),
        ];
        foreach (var shape in new[] { "a", "b" })
        {
            foreach (var (spelling, template, expected) in rows) data.Add(shape, spelling, $"{template}|{expected}");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void NanoGpt_every_status_spelling_is_understood_in_both_shapes(string shape, string spelling, string templateAndExpected)
    {
        var parts = templateAndExpected.Split('|');
        var template = (shape, parts[0]) switch
        {
            ("a", "queued") => "nanogpt/status-a-queued.json",
            ("a", "processing") => "nanogpt/status-a-processing.json",
            ("a", "completed") => "nanogpt/status-a-completed.json",
            ("a", "failed") => "nanogpt/status-a-failed.json",
            ("a", _) => "nanogpt/status-a-cancelled.json",
            (_, "queued") => "nanogpt/status-b-in-queue.json",
            (_, "processing") => "nanogpt/status-b-in-progress.json",
            (_, "completed") => "nanogpt/status-b-completed.json",
            (_, "failed") => "nanogpt/status-b-failed.json",
            _ => "nanogpt/status-b-canceled.json",
        };
        var node = JsonNode.Parse(Fixture.Load(template, Task))!.AsObject();
        (shape == "a" ? node : node["data"]!.AsObject())["status"] = spelling;
        var result = NanoGptFormat.FromStatus(JsonDocument.Parse(node.ToJsonString()).RootElement);
        Assert.Null(result.Problem);
        Assert.Equal(parts[1], result.Observation!.Status);
    }

    [Theory]
    [InlineData("""{"requestId":"t","status":"exploded"}""")]
    [InlineData("""{"requestId":"t"}""")]
    [InlineData("""{"requestId":"t","status":"completed","videoUrl":null}""")]
    [InlineData("""{"data":{"status":"COMPLETED","request_id":"t","output":null}}""")]
    public void NanoGpt_status_without_a_usable_answer_is_a_problem(string body)
    {
        var result = NanoGptFormat.FromStatus(JsonDocument.Parse(body).RootElement);
        Assert.True(result.Observation is null || result.Observation.Status == JobStatuses.Submitted);
        Assert.False(string.IsNullOrWhiteSpace(result.Problem));
    }
}

using System.Net.Http.Headers;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Providers.Kie;

/// <summary>Kie.ai: Bearer auth; the outcome lives in the body's <c>code</c>, whatever the HTTP status.</summary>
public sealed class KieClient(IHttpClientFactory http, ProviderEndpoints endpoints) : IProviderClient
{
    public string Provider => ProviderNames.Kie;

    public bool SendsCallbacks => true;

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var r = submission.Request;
        var endpoint = endpoints.For(Provider);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "api/v1/mj/generateVideoExtend"))
        {
            Content = ProviderHttp.Json(new
            {
                taskType = r.Mode == "auto" ? "mj_video_extend_auto" : "mj_video_extend_manual",
                taskId = r.SourceTaskId,
                index = r.Index,
                prompt = r.Mode == "auto" ? null : r.Prompt,
                waterMark = r.Watermark,
                callBackUrl = submission.CallbackUrl,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http.CreateClient(ProviderHttpClients.Submit(Provider)), request, endpoint.Timeout, "Kie.ai", cancellationToken);
        if (failure is not null) return failure;
        if (!JsonRead.TryParse(answer!.Body, out var root))
        {
            return (int)answer.Status >= 400
                ? ProviderHttp.ClassifyHttpFailure(answer, "Kie.ai", null)
                : ProviderHttp.AcceptedWithoutTaskId("Kie.ai", answer.Oversized ? ProviderHttp.TooLarge : "a body that is not JSON");
        }
        var code = root.Prop("code").Int() ?? (int)answer.Status;
        var message = root.Prop("msg").Str();
        return code switch
        {
            200 when KieFormat.TaskId(root) is { } taskId => new SubmitResult(SubmitOutcome.Accepted, taskId),
            200 => ProviderHttp.AcceptedWithoutTaskId("Kie.ai", "no task id"),
            400 or 404 or 422 => new SubmitResult(SubmitOutcome.Invalid, Message: message ?? $"Kie.ai rejected the request (code {code})"),
            429 => new SubmitResult(SubmitOutcome.RateLimited, Message: message ?? "Kie.ai is rate limiting requests",
                RetryAfter: answer.RetryAfter ?? TimeSpan.FromSeconds(10)),
            401 => new SubmitResult(SubmitOutcome.Unavailable, Message: "Kie.ai refused this service's credentials; check Providers:Kie:ApiKey"),
            402 => new SubmitResult(SubmitOutcome.Unavailable, Message: "Kie.ai account has insufficient credits"),
            455 => new SubmitResult(SubmitOutcome.Unavailable, Message: message ?? "Kie.ai is under maintenance"),
            _ => new SubmitResult(SubmitOutcome.Unavailable, Message: $"Kie.ai failed with code {code}: {message}"),
        };
    }

    public async Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.For(Provider);
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(endpoint.BaseUrl, $"api/v1/mj/record-info?taskId={Uri.EscapeDataString(providerTaskId)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        return await StatusQuery.RunAsync(http.CreateClient(ProviderHttpClients.Status(Provider)), request, "Kie.ai", KieFormat.FromRecordInfo, cancellationToken);
    }
}

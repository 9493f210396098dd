using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Providers.NanoGpt;

/// <summary>NanoGPT: x-api-key auth, no webhooks (the poller asks), two submit flows.</summary>
public sealed class NanoGptClient(IHttpClientFactory http, ProviderEndpoints endpoints) : IProviderClient
{
    public string Provider => ProviderNames.NanoGpt;

    public bool SendsCallbacks => false;

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var r = submission.Request;
        var endpoint = endpoints.For(Provider);
        using var request = r.IsNanoGptTaskBased
            ? new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "api/generate-video/extend"))
            {
                Content = ProviderHttp.Json(new { runId = r.SourceTaskId, index = r.Index }),
            }
            : new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "api/generate-video"))
            {
                Content = ProviderHttp.Json(new { model = r.Model, prompt = r.Prompt, videoUrl = r.VideoUrl }),
            };
        request.Headers.TryAddWithoutValidation("x-api-key", endpoint.ApiKey);
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http.CreateClient(ProviderHttpClients.Submit(Provider)), request, endpoint.Timeout, "NanoGPT", cancellationToken);
        if (failure is not null) return failure;
        _ = JsonRead.TryParse(answer!.Body, out var root);
        if ((int)answer.Status is >= 200 and < 300)
        {
            return root.FirstStr(["runId"], ["id"], ["taskId"]) is { } runId
                ? new SubmitResult(SubmitOutcome.Accepted, runId)
                : ProviderHttp.AcceptedWithoutTaskId("NanoGPT", answer.Oversized ? ProviderHttp.TooLarge : "no runId");
        }
        var message = root.ValueKind == System.Text.Json.JsonValueKind.Object
            ? root.Prop("error").ErrorText() ?? root.Prop("message").ErrorText()
            : null;
        return ProviderHttp.ClassifyHttpFailure(answer, "NanoGPT", message);
    }

    public async Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.For(Provider);
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(endpoint.BaseUrl, $"api/video/status?requestId={Uri.EscapeDataString(providerTaskId)}"));
        request.Headers.TryAddWithoutValidation("x-api-key", endpoint.ApiKey);
        return await StatusQuery.RunAsync(http.CreateClient(ProviderHttpClients.Status(Provider)), request, "NanoGPT", NanoGptFormat.FromStatus, cancellationToken);
    }
}

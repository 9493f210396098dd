using FluentValidation;
using Microsoft.Extensions.Options;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Api.Providers.Apiframe;

/// <summary>Apiframe: raw key in Authorization (no Bearer), 1-based string index, calls back with a webhook secret per job.</summary>
public sealed class ApiframeProvider(IHttpClientFactory http, ProviderEndpoints endpoints, IOptions<ApiframeOptions> options) : IProvider
{
    public const string Name = "apiframe";

    string IProvider.Name => Name;

    public string DisplayName => "Apiframe";

    public ProviderEndpointOptions Options => options.Value;

    public ICallbackScheme Callbacks { get; } = new ApiframeCallbacks();

    public ProviderPolling? Polling => null;

    public void AddRequestRules(ProviderRequestRules rules)
    {
        rules.SourceAndIndex();
        rules.RequiredPrompt("prompt is required for apiframe.");
        rules.RuleFor(x => x.Motion).Must(m => m is null or "low" or "high").WithMessage("motion must be 'low' or 'high'.");
        rules.HttpsUrl(x => x.ImageUrl, "imageUrl");
        rules.NotFor(Name, x => x.Mode, "mode");
        rules.NotFor(Name, x => x.Watermark, "watermark");
        rules.NotFor(Name, x => x.Model, "model");
        rules.NotFor(Name, x => x.VideoUrl, "videoUrl");
    }

    public void ConfigureSimulator(SimulatorOptions simulator) => simulator.ApiframeApiKey = Infrastructure.SandboxOptions.ApiKeyFor(Name);

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var r = submission.Request;
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "imagine-video-extend"))
        {
            Content = ProviderHttp.Json(new
            {
                parent_task_id = r.SourceTaskId,
                index = ((r.Index ?? 0) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                prompt = r.Prompt,
                image_url = r.ImageUrl,
                motion = r.Motion,
                webhook_url = submission.CallbackUrl,
                webhook_secret = submission.WebhookSecret,
            }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", endpoint.ApiKey);
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http.CreateClient(ProviderHttpClients.Submit(Name)), request, endpoint.Timeout, "Apiframe", cancellationToken);
        if (failure is not null) return failure;
        _ = JsonRead.TryParse(answer!.Body, out var root);
        if ((int)answer.Status is >= 200 and < 300)
        {
            return ApiframeFormat.TaskId(root) is { } taskId
                ? new SubmitResult(SubmitOutcome.Accepted, taskId)
                : ProviderHttp.AcceptedWithoutTaskId("Apiframe", answer.Oversized ? ProviderHttp.TooLarge : "no task_id");
        }
        var message = root.ValueKind == System.Text.Json.JsonValueKind.Object
            ? root.Prop("errors") is { ValueKind: System.Text.Json.JsonValueKind.Array } errors
                ? string.Join("; ", errors.EnumerateArray().Select(e => e.Prop("msg").Str() ?? e.GetRawText()))
                : root.Prop("message").ErrorText() ?? root.Prop("error").ErrorText()
            : null;
        return ProviderHttp.ClassifyHttpFailure(answer, "Apiframe", string.IsNullOrWhiteSpace(message) ? null : message);
    }

    public async Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "fetch"))
        {
            Content = ProviderHttp.Json(new { task_id = providerTaskId }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", endpoint.ApiKey);
        return await StatusQuery.RunAsync(http.CreateClient(ProviderHttpClients.Status(Name)), request, "Apiframe", ApiframeFormat.FromFetch, cancellationToken);
    }
}

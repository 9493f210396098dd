using FluentValidation;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Submissions;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Api.Providers.NanoGpt;

/// <summary>NanoGPT: x-api-key auth, no webhooks (the poller asks), two submit flows.</summary>
public sealed class NanoGptProvider(IHttpClientFactory http, ProviderEndpoints endpoints, IOptions<NanoGptOptions> options) : IProvider
{
    public const string Name = "nanogpt";

    string IProvider.Name => Name;

    public string DisplayName => "NanoGPT";

    public ProviderEndpointOptions Options => options.Value;

    /// <summary>NanoGPT has no webhooks.</summary>
    public ICallbackScheme? Callbacks => null;

    public ProviderPolling Polling => new(options.Value.PollInterval, options.Value.PollConcurrency);

    ProviderPolling? IProvider.Polling => Polling;

    /// <summary>Two flows: task-based (a Midjourney run id and index) or source-video (a model, a prompt and a video URL).</summary>
    public static bool IsTaskBased(ExtensionRequest r) => r.SourceTaskId is not null || (r.VideoUrl is null && r.Model is null);

    public void AddRequestRules(ProviderRequestRules rules)
    {
        rules.When(IsTaskBased, () =>
        {
            rules.SourceAndIndex();
            const string flow = "task-based nanogpt extension (sourceTaskId + index)";
            rules.NotFor(flow, x => x.VideoUrl, "videoUrl");
            rules.NotFor(flow, x => x.Model, "model");
            rules.NotFor(flow, x => x.Prompt, "prompt");
        }).Otherwise(() =>
        {
            rules.RuleFor(x => x.Model).Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("model is required for source-video nanogpt extension (e.g. veo3-1-extend).")
                .MaximumLength(100).WithMessage("model must be at most 100 characters.")
                .Matches("^[A-Za-z0-9._-]+$").WithMessage("model may contain only letters, digits, '.', '_' and '-'.");
            rules.RequiredPrompt("prompt is required for source-video nanogpt extension.");
            rules.RuleFor(x => x.VideoUrl).NotEmpty().WithMessage("videoUrl is required for source-video nanogpt extension.");
            rules.HttpsUrl(x => x.VideoUrl, "videoUrl");
            rules.NotFor("source-video nanogpt extension", x => x.Index, "index");
        });
        rules.NotFor(Name, x => x.Mode, "mode");
        rules.NotFor(Name, x => x.Motion, "motion");
        rules.NotFor(Name, x => x.ImageUrl, "imageUrl");
        rules.NotFor(Name, x => x.Watermark, "watermark");
    }

    public void ConfigureSimulator(SimulatorOptions simulator) => simulator.NanoGptApiKey = Infrastructure.SandboxOptions.ApiKeyFor(Name);

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var r = submission.Request;
        var endpoint = endpoints.For(this);
        // The extend endpoint's pages name the run id "runId" (preferred, "taskId" a legacy alias) while its OpenAPI
        // schema marks "taskId" required: both carry the same id, so either reading of the contract finds it
        // (docs/providers.md; pinned by NanoGptContractTests).
        using var request = IsTaskBased(r)
            ? new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "api/generate-video/extend"))
            {
                Content = ProviderHttp.Json(new { runId = r.SourceTaskId, taskId = r.SourceTaskId, index = r.Index }),
            }
            : new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "api/generate-video"))
            {
                Content = ProviderHttp.Json(new { model = r.Model, prompt = r.Prompt, videoUrl = r.VideoUrl }),
            };
        request.Headers.TryAddWithoutValidation("x-api-key", endpoint.ApiKey);
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http.CreateClient(ProviderHttpClients.Submit(Name)), request, endpoint.Timeout, "NanoGPT", cancellationToken);
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
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(endpoint.BaseUrl, $"api/video/status?requestId={Uri.EscapeDataString(providerTaskId)}"));
        request.Headers.TryAddWithoutValidation("x-api-key", endpoint.ApiKey);
        return await StatusQuery.RunAsync(http.CreateClient(ProviderHttpClients.Status(Name)), request, "NanoGPT", NanoGptFormat.FromStatus, cancellationToken);
    }
}

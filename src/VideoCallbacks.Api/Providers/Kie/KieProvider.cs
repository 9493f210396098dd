using System.Net.Http.Headers;
using FluentValidation;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Api.Providers.Kie;

/// <summary>
/// Kie.ai (Midjourney video extend): Bearer auth; the outcome lives in the body's <c>code</c>, whatever the HTTP status;
/// calls back, signed with HMAC when <c>Providers:Kie:WebhookHmacKey</c> is set.
/// </summary>
public sealed class KieProvider(
    IHttpClientFactory http,
    ProviderEndpoints endpoints,
    IOptions<KieOptions> options,
    IOptions<CallbackOptions> callbackOptions,
    TimeProvider time) : IProvider
{
    public const string Name = "kie";

    private readonly KieCallbacks _callbacks = new(options, callbackOptions, time);

    string IProvider.Name => Name;

    public string DisplayName => "Kie.ai";

    public ProviderEndpointOptions Options => options.Value;

    public ICallbackScheme Callbacks => _callbacks;

    public ProviderPolling? Polling => null;

    public void AddRequestRules(ProviderRequestRules rules)
    {
        rules.SourceAndIndex();
        rules.RuleFor(x => x.Mode).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("mode is required for kie: manual or auto.")
            .Must(m => m is "manual" or "auto").WithMessage("mode must be 'manual' or 'auto'.");
        rules.When(x => x.Mode == "manual", () => rules.RequiredPrompt("prompt is required when mode is manual."));
        rules.When(x => x.Mode == "auto", () =>
            rules.RuleFor(x => x.Prompt).Null().WithMessage("prompt is not accepted when mode is auto (Kie continues the video by itself)."));
        rules.RuleFor(x => x.Watermark).MaximumLength(100).WithMessage("watermark must be at most 100 characters.");
        rules.NotFor(Name, x => x.Motion, "motion");
        rules.NotFor(Name, x => x.ImageUrl, "imageUrl");
        rules.NotFor(Name, x => x.Model, "model");
        rules.NotFor(Name, x => x.VideoUrl, "videoUrl");
    }

    public void ConfigureSimulator(SimulatorOptions simulator)
    {
        simulator.KieApiKey = Infrastructure.SandboxOptions.ApiKeyFor(Name);
        // Signed callbacks in the sandbox exactly when the service is configured to demand them.
        simulator.KieWebhookHmacKey = options.Value.WebhookHmacKey;
    }

    public async Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken)
    {
        var r = submission.Request;
        var endpoint = endpoints.For(this);
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
        var (answer, failure) = await ProviderHttp.SendOnceAsync(http.CreateClient(ProviderHttpClients.Submit(Name)), request, endpoint.Timeout, "Kie.ai", cancellationToken);
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
        var endpoint = endpoints.For(this);
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(endpoint.BaseUrl, $"api/v1/mj/record-info?taskId={Uri.EscapeDataString(providerTaskId)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        return await StatusQuery.RunAsync(http.CreateClient(ProviderHttpClients.Status(Name)), request, "Kie.ai", KieFormat.FromRecordInfo, cancellationToken);
    }
}

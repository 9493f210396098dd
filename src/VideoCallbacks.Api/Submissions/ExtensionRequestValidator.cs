using FluentValidation;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Submissions;

/// <summary>
/// Every rule from the providers' pages, so a bad request fails here with a useful message
/// instead of costing a provider round trip. Fields that do not belong to the chosen provider are errors.
/// </summary>
public sealed class ExtensionRequestValidator : AbstractValidator<ExtensionRequest>
{
    public const int MaxPromptLength = 2000;

    public ExtensionRequestValidator()
    {
        RuleFor(x => x.Provider).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("provider is required: one of kie, apiframe, nanogpt.")
            .Must(ProviderNames.IsKnown).WithMessage(x => $"provider '{x.Provider}' is not supported; use one of kie, apiframe, nanogpt.");

        // Stored as given; PostgreSQL cannot store U+0000 and no field means anything with it: a 400 on every engine.
        RuleFor(x => x).Custom((r, context) =>
        {
            foreach (var (name, value) in new[] { ("provider", r.Provider), ("sourceTaskId", r.SourceTaskId), ("prompt", r.Prompt), ("mode", r.Mode),
                         ("motion", r.Motion), ("imageUrl", r.ImageUrl), ("watermark", r.Watermark), ("model", r.Model), ("videoUrl", r.VideoUrl),
                         ("correlationId", r.CorrelationId) })
            {
                if (StorableText.HasNul(value)) context.AddFailure(name, $"{name} must not contain the NUL character (U+0000).");
            }
            if (r.Metadata?.Any(kv => StorableText.HasNul(kv.Key) || StorableText.HasNul(kv.Value)) == true)
            {
                context.AddFailure("metadata", "metadata keys and values must not contain the NUL character (U+0000).");
            }
        });
        RuleFor(x => x.CorrelationId).MaximumLength(200).WithMessage("correlationId must be at most 200 characters.");
        RuleFor(x => x.Metadata).Must(m => m is null || m.Count <= 32).WithMessage("metadata may hold at most 32 entries.");
        // One rule over the whole map: RuleForEach would report "metadata[0]", a position a dictionary does not have.
        RuleFor(x => x.Metadata).Must(m => m is null || m.All(kv => kv.Key.Length is > 0 and <= 64 && (kv.Value?.Length ?? 0) <= 512))
            .WithMessage("metadata keys must be 1-64 characters and values at most 512 characters.")
            .OverridePropertyName("metadata");
        // The contract says metadata values are strings; null would be stored and published as null.
        RuleFor(x => x.Metadata).Custom((m, context) =>
        {
            foreach (var key in m?.Where(kv => kv.Value is null).Select(kv => kv.Key).Take(5) ?? [])
            {
                context.AddFailure("metadata", $"metadata['{Infrastructure.Problems.Shorten(key, 64)}'] is null; metadata values must be strings.");
            }
        });

        When(x => x.Provider == ProviderNames.Kie, () =>
        {
            SourceAndIndex();
            RuleFor(x => x.Mode).Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("mode is required for kie: manual or auto.")
                .Must(m => m is "manual" or "auto").WithMessage("mode must be 'manual' or 'auto'.");
            When(x => x.Mode == "manual", () =>
                RuleFor(x => x.Prompt).Cascade(CascadeMode.Stop)
                    .NotEmpty().WithMessage("prompt is required when mode is manual.")
                    .MaximumLength(MaxPromptLength).WithMessage($"prompt must be at most {MaxPromptLength} characters."));
            When(x => x.Mode == "auto", () =>
                RuleFor(x => x.Prompt).Null().WithMessage("prompt is not accepted when mode is auto (Kie continues the video by itself)."));
            RuleFor(x => x.Watermark).MaximumLength(100).WithMessage("watermark must be at most 100 characters.");
            NotFor("kie", x => x.Motion, "motion");
            NotFor("kie", x => x.ImageUrl, "imageUrl");
            NotFor("kie", x => x.Model, "model");
            NotFor("kie", x => x.VideoUrl, "videoUrl");
        });

        When(x => x.Provider == ProviderNames.Apiframe, () =>
        {
            SourceAndIndex();
            RuleFor(x => x.Prompt).Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("prompt is required for apiframe.")
                .MaximumLength(MaxPromptLength).WithMessage($"prompt must be at most {MaxPromptLength} characters.");
            RuleFor(x => x.Motion).Must(m => m is null or "low" or "high").WithMessage("motion must be 'low' or 'high'.");
            HttpsUrl(x => x.ImageUrl, "imageUrl");
            NotFor("apiframe", x => x.Mode, "mode");
            NotFor("apiframe", x => x.Watermark, "watermark");
            NotFor("apiframe", x => x.Model, "model");
            NotFor("apiframe", x => x.VideoUrl, "videoUrl");
        });

        When(x => x.Provider == ProviderNames.NanoGpt && x.IsNanoGptTaskBased, () =>
        {
            SourceAndIndex();
            const string flow = "task-based nanogpt extension (sourceTaskId + index)";
            NotFor(flow, x => x.VideoUrl, "videoUrl");
            NotFor(flow, x => x.Model, "model");
            NotFor(flow, x => x.Prompt, "prompt");
            NotFor("nanogpt", x => x.Mode, "mode");
            NotFor("nanogpt", x => x.Motion, "motion");
            NotFor("nanogpt", x => x.ImageUrl, "imageUrl");
            NotFor("nanogpt", x => x.Watermark, "watermark");
        });

        When(x => x.Provider == ProviderNames.NanoGpt && !x.IsNanoGptTaskBased, () =>
        {
            RuleFor(x => x.Model).Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("model is required for source-video nanogpt extension (e.g. veo3-1-extend).")
                .MaximumLength(100).WithMessage("model must be at most 100 characters.")
                .Matches("^[A-Za-z0-9._-]+$").WithMessage("model may contain only letters, digits, '.', '_' and '-'.");
            RuleFor(x => x.Prompt).Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("prompt is required for source-video nanogpt extension.")
                .MaximumLength(MaxPromptLength).WithMessage($"prompt must be at most {MaxPromptLength} characters.");
            RuleFor(x => x.VideoUrl).NotEmpty().WithMessage("videoUrl is required for source-video nanogpt extension.");
            HttpsUrl(x => x.VideoUrl, "videoUrl");
            NotFor("source-video nanogpt extension", x => x.Index, "index");
            NotFor("nanogpt", x => x.Mode, "mode");
            NotFor("nanogpt", x => x.Motion, "motion");
            NotFor("nanogpt", x => x.ImageUrl, "imageUrl");
            NotFor("nanogpt", x => x.Watermark, "watermark");
        });
    }

    private void SourceAndIndex()
    {
        RuleFor(x => x.SourceTaskId).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("sourceTaskId is required: the task id of the original Midjourney video.")
            .MaximumLength(200).WithMessage("sourceTaskId must be at most 200 characters.");
        RuleFor(x => x.Index).Cascade(CascadeMode.Stop)
            .NotNull().WithMessage("index is required: 0-3, which of the original four videos to extend.")
            .InclusiveBetween(0, 3).WithMessage("index must be between 0 and 3 (0-based).");
    }

    private void HttpsUrl(System.Linq.Expressions.Expression<Func<ExtensionRequest, string?>> field, string name) =>
        RuleFor(field)
            .Must(u => u is null || (u.Length <= 2048 && Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && !string.IsNullOrEmpty(uri.Host)))
            .WithMessage($"{name} must be an absolute https URL of at most 2048 characters.")
            .OverridePropertyName(name);

    private void NotFor<T>(string what, System.Linq.Expressions.Expression<Func<ExtensionRequest, T?>> field, string name) =>
        RuleFor(field).Must(v => v is null).WithMessage($"{name} does not apply to {what}; remove it.").OverridePropertyName(name);
}

using System.Linq.Expressions;
using FluentValidation;
using VideoCallbacks.Api.Submissions;

namespace VideoCallbacks.Api.Providers;

/// <summary>
/// One provider's request rules (FluentValidation), applied only to requests for that provider. Fields that do not
/// belong to it are errors. The helpers are the rules several providers share, with the same messages.
/// </summary>
public sealed class ProviderRequestRules : AbstractValidator<ExtensionRequest>
{
    public const int MaxPromptLength = 2000;

    /// <summary>The original Midjourney task and which of its four videos (0-based) to extend.</summary>
    public void SourceAndIndex()
    {
        RuleFor(x => x.SourceTaskId).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("sourceTaskId is required: the task id of the original Midjourney video.")
            .MaximumLength(200).WithMessage("sourceTaskId must be at most 200 characters.");
        RuleFor(x => x.Index).Cascade(CascadeMode.Stop)
            .NotNull().WithMessage("index is required: 0-3, which of the original four videos to extend.")
            .InclusiveBetween(0, 3).WithMessage("index must be between 0 and 3 (0-based).");
    }

    public void RequiredPrompt(string requiredMessage) =>
        RuleFor(x => x.Prompt).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage(requiredMessage)
            .MaximumLength(MaxPromptLength).WithMessage($"prompt must be at most {MaxPromptLength} characters.");

    public void HttpsUrl(Expression<Func<ExtensionRequest, string?>> field, string name) =>
        RuleFor(field)
            .Must(u => u is null || (u.Length <= 2048 && Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && !string.IsNullOrEmpty(uri.Host)))
            .WithMessage($"{name} must be an absolute https URL of at most 2048 characters.")
            .OverridePropertyName(name);

    /// <summary>A field that does not apply to <paramref name="what"/> (a provider, or one of its flows).</summary>
    public void NotFor<T>(string what, Expression<Func<ExtensionRequest, T?>> field, string name) =>
        RuleFor(field).Must(v => v is null).WithMessage($"{name} does not apply to {what}; remove it.").OverridePropertyName(name);
}

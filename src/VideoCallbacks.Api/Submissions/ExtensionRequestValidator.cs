using FluentValidation;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Submissions;

/// <summary>
/// Every rule from the providers' pages, so a bad request fails here with a useful message instead of costing a
/// provider round trip: the rules every request shares here, each provider's own from its module.
/// </summary>
public sealed class ExtensionRequestValidator : AbstractValidator<ExtensionRequest>
{
    public ExtensionRequestValidator(ProviderRegistry providers)
    {
        RuleFor(x => x.Provider).Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage($"provider is required: one of {providers.NamesText}.")
            .Must(providers.IsKnown).WithMessage(x => $"provider '{x.Provider}' is not supported; use one of {providers.NamesText}.");

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

        // Each provider's own rules, for requests to it only (its module says which fields it takes).
        foreach (var provider in providers.All)
        {
            var rules = new ProviderRequestRules();
            provider.AddRequestRules(rules);
            When(x => x.Provider == provider.Name, () => Include(rules));
        }
    }
}

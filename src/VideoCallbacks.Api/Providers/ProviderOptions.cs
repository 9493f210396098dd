using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Providers;

public abstract class ProviderEndpointOptions : IValidatableObject
{
    /// <summary>The configuration section, so messages name the full key.</summary>
    protected abstract string SectionName { get; }

    public string BaseUrl { get; set; } = "";

    public string? ApiKey { get; set; }

    /// <summary>How long we wait for the provider to answer a submission before answering 504.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(Uri.TryCreate(BaseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
        {
            yield return new ValidationResult($"{SectionName}:BaseUrl must be an absolute http(s) URL.", [nameof(BaseUrl)]);
        }
        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult($"{SectionName}:Timeout must be between 00:00:01 and 00:05:00.", [nameof(Timeout)]);
        }
    }
}

public sealed class ReconcileOptions : IValidatableObject
{
    public const string Section = "Reconcile";

    [Range(typeof(TimeSpan), "00:00:00.050", "30.00:00:00", ErrorMessage = "Reconcile:After must be between {1} and {2}.")]
    public TimeSpan After { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:00:00.100", "365.00:00:00", ErrorMessage = "Reconcile:GiveUpAfter must be between {1} and {2}.")]
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Upper bound of the backoff between two questions about the same silent job.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Reconcile:MaxInterval must be between {1} and {2}.")]
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GiveUpAfter <= After)
        {
            yield return new ValidationResult("Reconcile:GiveUpAfter must be longer than Reconcile:After.", [nameof(GiveUpAfter)]);
        }
    }
}

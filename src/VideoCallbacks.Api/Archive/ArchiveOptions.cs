using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace VideoCallbacks.Api.Archive;

public static class ArchiveStores
{
    public const string FileSystem = "FileSystem";
    public const string AzureBlob = "AzureBlob";
    public const string None = "None";
}

/// <summary><c>Archive:*</c>: where result videos are kept, and how hard the service tries to copy them.</summary>
public sealed class ArchiveOptions : IValidatableObject
{
    public const string Section = "Archive";

    /// <summary>
    /// <c>FileSystem</c>, <c>AzureBlob</c> or <c>None</c>. Unset: <c>FileSystem</c> on SQLite (one process), <c>None</c> on
    /// PostgreSQL (several instances need storage they share: <c>AzureBlob</c>, or <c>FileSystem</c> on a shared volume
    /// with an explicit <c>Archive:Path</c>).
    /// </summary>
    public string? Store { get; set; }

    public string? Path { get; set; }

    /// <summary>Base of the durable URLs; unset: <c>Callbacks:PublicBaseUrl</c> (this process's own address in the sandbox).</summary>
    public string? PublicBaseUrl { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Archive:GiveUpAfter must be between {1} and {2}.")]
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(1);

    [Range(1, 64, ErrorMessage = "Archive:Concurrency must be between {1} and {2}.")]
    public int Concurrency { get; set; } = 4;

    [Range(1L, 1L << 40, ErrorMessage = "Archive:MaxBytes must be between {1} and {2}.")]
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Bytes per second all of this instance's downloads may read together (0: no limit). Keeps archiving from taking
    /// the cores and the disk from callback ingest: 100 MiB/s (the default) kept ingest p99 within 1.3x on two cores,
    /// unlimited loopback downloads pushed it 10-58x (docs/benchmarks.md). Raise it on a bigger machine.
    /// </summary>
    [Range(0L, 1L << 40, ErrorMessage = "Archive:MaxBytesPerSecond must be between {1} and {2} (0: no limit).")]
    public long MaxBytesPerSecond { get; set; } = 100L * 1024 * 1024;

    /// <summary>Lets downloads reach loopback and private networks (the sandbox's own CDN); never in production.</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>How long one download may take before it counts as a timeout (and is retried).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "06:00:00", ErrorMessage = "Archive:DownloadTimeout must be between {1} and {2}.")]
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(10);

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Archive:Lease must be between {1} and {2}.")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "Archive:BaseDelay must be between {1} and {2}.")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.010", "06:00:00", ErrorMessage = "Archive:MaxDelay must be between {1} and {2}.")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an idle worker looks for due work (a completion also wakes it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Archive:PollInterval must be between {1} and {2}.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Unset: archived videos are kept for ever. Set: deleted this long after the job completed.</summary>
    public TimeSpan? Retention { get; set; }

    public AzureBlobArchiveOptions AzureBlob { get; set; } = new();

    /// <summary>Set by the feature from <c>Storage:Provider</c> when binding: whether the default store applies to one process.</summary>
    internal bool SingleProcessStore { get; set; } = true;

    public string EffectiveStore => StoreFor(Store, SingleProcessStore);

    /// <summary>The store in use: the configured one, else FileSystem for one process (SQLite) and None for several.</summary>
    public static string StoreFor(string? configured, bool singleProcess) =>
        configured ?? (singleProcess ? ArchiveStores.FileSystem : ArchiveStores.None);

    public string EffectivePath => Path ?? System.IO.Path.Combine("data", "videos");

    public bool KeepsVideos => EffectiveStore != ArchiveStores.None;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store is not null and not (ArchiveStores.FileSystem or ArchiveStores.AzureBlob or ArchiveStores.None))
        {
            yield return new ValidationResult("Archive:Store must be 'FileSystem', 'AzureBlob' or 'None'.", [nameof(Store)]);
        }
        if (Store == ArchiveStores.FileSystem && !SingleProcessStore && string.IsNullOrWhiteSpace(Path))
        {
            yield return new ValidationResult(
                "Archive:Store=FileSystem with Storage:Provider=Postgres needs an explicit Archive:Path on a volume every instance shares " +
                "(or use Archive:Store=AzureBlob).", [nameof(Path)]);
        }
        if (EffectiveStore == ArchiveStores.AzureBlob && string.IsNullOrWhiteSpace(AzureBlob.ConnectionString) && AzureBlob.ServiceUri is null)
        {
            yield return new ValidationResult("Archive:Store=AzureBlob needs Archive:AzureBlob:ConnectionString or Archive:AzureBlob:ServiceUri.", ["AzureBlob"]);
        }
        if (AzureBlob.ServiceUri is { } uri && !(uri.IsAbsoluteUri && uri.Scheme is "https" or "http"))
        {
            yield return new ValidationResult("Archive:AzureBlob:ServiceUri must be an absolute https URL (https://<account>.blob.core.windows.net).", ["AzureBlob"]);
        }
        if (PublicBaseUrl is not null && !(Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var b) && b.Scheme is "https" or "http"))
        {
            yield return new ValidationResult("Archive:PublicBaseUrl must be an absolute http(s) URL.", [nameof(PublicBaseUrl)]);
        }
        if (MaxDelay < BaseDelay)
        {
            yield return new ValidationResult("Archive:MaxDelay must not be shorter than Archive:BaseDelay.", [nameof(MaxDelay)]);
        }
        if (Retention is { } r && r < TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult("Archive:Retention must be at least 00:00:01 (unset keeps videos for ever).", [nameof(Retention)]);
        }
        if (!Regex.IsMatch(AzureBlob.Container, "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$"))
        {
            yield return new ValidationResult("Archive:AzureBlob:Container must be a valid container name (3-63 lower-case letters, digits and single dashes).", ["AzureBlob"]);
        }
        if (AzureBlob.SasLifetime < TimeSpan.FromMinutes(1) || AzureBlob.SasLifetime > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("Archive:AzureBlob:SasLifetime must be between 00:01:00 and 7.00:00:00.", ["AzureBlob"]);
        }
    }
}

public sealed class AzureBlobArchiveOptions
{
    public string? ConnectionString { get; set; }

    /// <summary>The account's blob endpoint, reached with <c>DefaultAzureCredential</c> (managed identity on Azure).</summary>
    public Uri? ServiceUri { get; set; }

    public string Container { get; set; } = "videos";

    /// <summary>How long a download link (read-only SAS) is valid.</summary>
    public TimeSpan SasLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>True: a video request is answered 302 to a SAS; false: the service streams the blob itself.</summary>
    public bool Redirect { get; set; } = true;
}

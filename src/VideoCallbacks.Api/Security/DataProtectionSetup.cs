using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Security;

/// <summary>
/// How the Data Protection keys (the dashboard's session cookies, antiforgery) are protected at rest: with a
/// certificate (PFX) when one is configured, e.g. a Key Vault certificate handed to the app as a secret. There is no
/// Key Vault key-wrapping package on this registry, so the certificate is the framework's own way to encrypt them.
/// </summary>
public sealed class KeyProtectionOptions : IValidatableObject
{
    public const string Section = "DataProtection";

    /// <summary>A PFX file (e.g. a mounted secret volume).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PFX as base64 (e.g. a Container Apps secret that references a Key Vault certificate).</summary>
    public string? CertificateBase64 { get; set; }

    public string? CertificatePassword { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CertificatePath is not null && CertificateBase64 is not null)
        {
            yield return new ValidationResult("Set DataProtection:CertificatePath or DataProtection:CertificateBase64, not both.", [nameof(CertificatePath)]);
            yield break;
        }
        string? problem = null;
        try
        {
            using var certificate = Load();
            if (certificate is { HasPrivateKey: false }) problem = "DataProtection: the certificate has no private key (export it as PFX with its key).";
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or FormatException)
        {
            // Names the key, never the password.
            problem = $"DataProtection:{(CertificatePath is not null ? "CertificatePath" : "CertificateBase64")} cannot be loaded as a PFX: {e.Message}";
        }
        if (problem is not null) yield return new ValidationResult(problem, [nameof(CertificatePath)]);
    }

    public X509Certificate2? Load() =>
        CertificatePath is not null ? X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, CertificatePassword)
        : CertificateBase64 is not null ? X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(CertificateBase64), CertificatePassword)
        : null;
}

public static class DataProtectionSetup
{
    public const string ApplicationName = "VideoCallbacks";

    /// <summary>
    /// One key ring for every instance, in the database (<see cref="DatabaseXmlRepository"/>), encrypted with the
    /// configured certificate. Without one the keys are stored as the framework writes them; start-up says so once,
    /// naming the setting (instead of the framework's "No XML encryptor configured", which says nothing one can act on).
    /// </summary>
    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KeyProtectionOptions>(configuration, KeyProtectionOptions.Section);
        var builder = services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<SqlDatabase, TimeProvider, IOptions<KeyProtectionOptions>>((o, db, time, protection) =>
        {
            o.XmlRepository = new DatabaseXmlRepository(db, time);
            if (protection.Value.Load() is { } certificate)
            {
                o.XmlEncryptor = new Microsoft.AspNetCore.DataProtection.XmlEncryption.CertificateXmlEncryptor(certificate, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
            }
        });
        // Decrypting needs the certificate too; the framework looks it up through this resolver.
        services.AddSingleton<Microsoft.AspNetCore.DataProtection.XmlEncryption.ICertificateResolver>(sp =>
            new ConfiguredCertificateResolver(sp.GetRequiredService<IOptions<KeyProtectionOptions>>()));
        services.AddLogging(b => b.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error));
        services.AddHostedService<KeyProtectionNotice>();
        _ = builder;
        return services;
    }

    /// <summary>Resolves the configured certificate by thumbprint (and falls back to the machine's stores).</summary>
    private sealed class ConfiguredCertificateResolver(IOptions<KeyProtectionOptions> options) : Microsoft.AspNetCore.DataProtection.XmlEncryption.CertificateResolver
    {
        private readonly X509Certificate2? _certificate = options.Value.Load();

        public override X509Certificate2? ResolveCertificate(string thumbprint) =>
            _certificate is not null && string.Equals(_certificate.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)
                ? _certificate
                : base.ResolveCertificate(thumbprint);
    }

    /// <summary>Says once at start-up how the key ring is protected.</summary>
    private sealed class KeyProtectionNotice(IOptions<KeyProtectionOptions> options, IHostEnvironment environment, ILogger<KeyProtectionNotice> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.CertificatePath is null && options.Value.CertificateBase64 is null && !environment.IsDevelopment())
            {
                logger.LogWarning("Data Protection keys (dashboard sessions) are stored in the database unencrypted; set DataProtection:CertificatePath or " +
                    "DataProtection:CertificateBase64 (a PFX, e.g. from Key Vault) to encrypt them at rest");
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

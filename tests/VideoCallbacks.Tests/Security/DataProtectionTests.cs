using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace VideoCallbacks.Tests.Security;

/// <summary>
/// Issue 19, point 6: Data Protection (the dashboard's session cookies) is configured, not left to its defaults: one
/// key ring in the database for every instance, encrypted with a certificate when one is given, and no start-up
/// warning a user cannot act on.
/// </summary>
public sealed class DataProtectionTests
{
    [Fact]
    public async Task Two_instances_on_one_database_share_the_key_ring()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        await using var a = await TestApp.StartAsync(Db.Postgres, connectionString: database);
        var sealedByA = a.Get<IDataProtectionProvider>().CreateProtector("dashboard.session").Protect("operator-session");

        await using var b = await TestApp.StartAsync(Db.Postgres, connectionString: database);

        Assert.Equal("operator-session", b.Get<IDataProtectionProvider>().CreateProtector("dashboard.session").Unprotect(sealedByA));
    }

    [Theory, BothDatabases]
    public async Task With_a_certificate_the_stored_keys_are_encrypted_and_still_usable(Db db)
    {
        var pfx = Path.Combine(Path.GetTempPath(), $"vc-dp-{Guid.NewGuid():N}.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=videocallbacks-data-protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        }
        try
        {
            await using var app = await TestApp.StartAsync(db, s =>
            {
                s["DataProtection:CertificatePath"] = pfx;
                s["DataProtection:CertificatePassword"] = "pfx-password";
            });
            var protector = app.Get<IDataProtectionProvider>().CreateProtector("dashboard.session");
            Assert.Equal("round trip", protector.Unprotect(protector.Protect("round trip")));

            await using var connection = await app.Get<SqlDatabase>().OpenAsync(CancellationToken.None);
            var keys = (await connection.QueryAsync<string>("SELECT xml FROM dataprotection_keys")).ToList();
            Assert.NotEmpty(keys);
            Assert.All(keys, xml =>
            {
                Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
            });
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public async Task Start_up_says_once_how_to_encrypt_the_keys_instead_of_the_frameworks_warning()
    {
        var logs = new FakeLoggerProvider();
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["Logging:LogLevel:Default"] = "Information",
            services => services.AddSingleton<ILoggerProvider>(logs));
        // The key ring is made at start-up; use it once so nothing is left for later.
        app.Get<IDataProtectionProvider>().CreateProtector("x").Protect("y");

        var records = logs.Collector.GetSnapshot();
        Assert.DoesNotContain(records, r => r.Message.Contains("XML encryptor", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Message.Contains("DataProtection-Keys", StringComparison.Ordinal));
        var notice = Assert.Single(records, r => r.Message.Contains("Data Protection keys", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, notice.Level);
        Assert.Contains("DataProtection:CertificatePath", notice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_certificate_that_cannot_be_loaded_stops_start_up_naming_the_key()
    {
        var error = await TestApp.StartFailureAsync(Db.Sqlite, s => s["DataProtection:CertificateBase64"] = "bm90IGEgcGZ4");

        Assert.Contains("DataProtection:CertificateBase64", error.ToString(), StringComparison.Ordinal);
    }
}

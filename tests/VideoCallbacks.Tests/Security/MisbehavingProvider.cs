using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using WireMock.Server;

namespace VideoCallbacks.Tests.Security;

/// <summary>A provider (WireMock) that misbehaves on purpose, and the service pointed at it instead of the sandbox.</summary>
internal static class MisbehavingProvider
{
    public const string KieApiKey = "kie-api-key-for-misbehaving-provider";
    public const string ApiframeApiKey = "apiframe-api-key-for-misbehaving-provider";

    public static Task<TestApp> StartServiceAsync(Db db, WireMockServer provider, Action<Dictionary<string, string?>>? configure = null) =>
        TestApp.StartAsync(db, s =>
        {
            s["Sandbox:Enabled"] = "false";
            s["Providers:Kie:BaseUrl"] = provider.Url;
            s["Providers:Kie:ApiKey"] = KieApiKey;
            s["Providers:Apiframe:BaseUrl"] = provider.Url;
            s["Providers:Apiframe:ApiKey"] = ApiframeApiKey;
            s["Providers:NanoGpt:BaseUrl"] = provider.Url;
            s["Providers:NanoGpt:ApiKey"] = "nanogpt-api-key-for-misbehaving-provider";
            configure?.Invoke(s);
        });

    /// <summary>The JSON bodies the provider received on <paramref name="path"/>, in order.</summary>
    public static IReadOnlyList<JsonElement> Received(WireMockServer provider, string path) =>
        provider.LogEntries
            .Where(e => e.RequestMessage?.Path == path)
            .Select(e => JsonElement.Parse(e.RequestMessage!.Body!))
            .ToList();

    /// <summary>The hook (callback URL, secret) the service handed the provider in one received submission.</summary>
    public static Hook HookFrom(JsonElement submission, string provider, string? taskId)
    {
        var url = submission.GetProperty(provider == "kie" ? "callBackUrl" : "webhook_url").GetString()!;
        var secret = provider == "apiframe" ? submission.GetProperty("webhook_secret").GetString() : null;
        return new Hook(url.Split('/')[^2], provider, taskId, url, secret, "");
    }

    /// <summary>One column of every job row, read straight from the database (what an attacker with a backup would see).</summary>
    public static async Task<IReadOnlyList<string?>> JobColumnAsync(TestApp app, string column)
    {
        await using DbConnection c = app.Db == Db.Postgres
            ? new NpgsqlConnection(app.StorageConnectionString)
            : new SqliteConnection(app.StorageConnectionString);
        await c.OpenAsync();
        await using var command = c.CreateCommand();
        command.CommandText = $"SELECT {column} FROM jobs";
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string?>();
        while (await reader.ReadAsync()) values.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
        return values;
    }
}

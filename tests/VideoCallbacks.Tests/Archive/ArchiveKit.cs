using System.Security.Cryptography;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Tests.Archive;

/// <summary>Settings and reads the archive tests share.</summary>
public static class ArchiveKit
{
    /// <summary>FileSystem store in a folder of its own, quick retries, a short give-up.</summary>
    public static Action<Dictionary<string, string?>> FileSystem(string? giveUpAfter = null, Action<Dictionary<string, string?>>? more = null) => s =>
    {
        s["Archive:Store"] = "FileSystem";
        s["Archive:BaseDelay"] = "00:00:00.100";
        s["Archive:MaxDelay"] = "00:00:00.500";
        s["Archive:PollInterval"] = "00:00:00.100";
        s["Archive:Lease"] = "00:00:03";
        if (giveUpAfter is not null) s["Archive:GiveUpAfter"] = giveUpAfter;
        more?.Invoke(s);
    };

    public static Action<Dictionary<string, string?>> AzureBlob(string connectionString, string container, bool redirect = true, string? giveUpAfter = null) => s =>
    {
        FileSystem(giveUpAfter)(s);
        s["Archive:Store"] = "AzureBlob";
        s["Archive:AzureBlob:ConnectionString"] = connectionString;
        s["Archive:AzureBlob:Container"] = container;
        s["Archive:AzureBlob:Redirect"] = redirect ? "true" : "false";
    };

    public static JsonElement Data(this JsonElement cloudEvent) => cloudEvent.GetProperty("data");

    public static async Task<JsonElement> CompletedAsync(this TestApp app, string jobId)
    {
        var events = await app.Driver.WaitForTerminalEventAsync(jobId);
        var completed = Assert.Single(events, ServiceApi.IsTerminal);
        Assert.Equal("video.extension.completed", completed.GetProperty("type").GetString());
        return completed;
    }

    public static IReadOnlyList<RecordedRequest> CdnRequests(this TestApp app, string taskId) =>
        app.Get<SimulatorState>().Requests.Where(r => r.Provider == "cdn" && r.Path.Contains($"/sandbox/cdn/{taskId}/", StringComparison.Ordinal)).ToList();

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static byte[] SimulatorVideo(string taskId, int index) => CdnSimulator.VideoBytes(taskId, index);
}

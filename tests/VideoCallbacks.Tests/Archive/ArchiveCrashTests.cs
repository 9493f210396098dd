using System.Globalization;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Tests.Archive;

/// <summary>The service process is killed (SIGKILL) in the middle of a download; the next one stores the video once and completes once.</summary>
public sealed class ArchiveCrashTests
{
    [Fact]
    public async Task Killed_mid_download_the_next_process_stores_each_video_once_and_publishes_completed_once()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Sqlite);
        var folder = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"), "videos");
        var port = Ports.Free();
        var settings = new Dictionary<string, string>
        {
            ["Archive:Store"] = "FileSystem",
            ["Archive:Path"] = folder,
            // What the dead process claimed is taken over after the lease.
            ["Archive:Lease"] = "00:00:02",
            ["Archive:PollInterval"] = "00:00:00.100",
        };
        string jobId;
        await using (var first = await ServiceProcess.StartAsync(database.Provider, database.ConnectionString, settings, port: port))
        {
            // Headers at once, then the body 4 s later: the download is in flight when the process dies.
            jobId = (await first.Driver.SubmitAsync(Kie(sourceTaskId: "arch-crash~cdn-slow=4000"))).JobId();
            await Wait.UntilAsync(() => CdnRequestsAsync(first), n => n > 0, "a download in flight");
            // Killed at once: any request in between could let a slow machine use up the body's 4 s.
            await first.KillAsync();
        }
        var jobFolder = Path.Combine(folder, jobId);
        // The download was in flight: nothing under a final name, only the dead process's temporary file, if any.
        Assert.Empty(Directory.Exists(jobFolder) ? Directory.GetFiles(jobFolder, "*.mp4") : []);

        await using var second = await ServiceProcess.StartAsync(database.Provider, database.ConnectionString, settings, port: port);
        var events = await second.Driver.WaitForTerminalEventAsync(jobId);
        var completed = Assert.Single(events, ServiceApi.IsTerminal);
        var data = completed.GetProperty("data");
        Assert.Equal("archived", data.GetProperty("archive").GetProperty("status").GetString());
        var taskId = data.GetProperty("providerTaskId").GetString()!;
        var videos = data.GetProperty("videos").GetArrayLength();
        Assert.Equal(Enumerable.Range(0, videos).Select(i => $"{i}.mp4"),
            Directory.GetFiles(jobFolder, "*.mp4").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        for (var i = 0; i < videos; i++)
        {
            Assert.Equal(CdnSimulator.VideoBytes(taskId, i), await File.ReadAllBytesAsync(Path.Combine(jobFolder, string.Create(CultureInfo.InvariantCulture, $"{i}.mp4"))));
        }
        Assert.Single(await second.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
    }

    private static async Task<int> CdnRequestsAsync(ServiceProcess service)
    {
        using var response = await service.Driver.Admin.GetAsync(new Uri("/sandbox/_sim/requests?provider=cdn", UriKind.Relative));
        return (await response.JsonAsync()).GetArrayLength();
    }
}

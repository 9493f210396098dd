using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Archive;
using VideoCallbacks.Tests.Caching;

namespace VideoCallbacks.Tests.Archive;

/// <summary>Which store a deployment gets when it names none, and what start-up says about it.</summary>
public sealed class ArchiveDefaultsTests
{
    [Fact]
    public async Task Postgres_without_a_store_keeps_no_videos_and_start_up_recommends_AzureBlob_once()
    {
        var logs = new CapturedLogs();
        await using var app = await TestApp.StartAsync(Db.Postgres, s => s.Remove("Archive:Store"),
            services: s => s.AddSingleton<ILoggerProvider>(logs));

        Assert.Equal(ArchiveStores.None, app.Get<IOptions<ArchiveOptions>>().Value.EffectiveStore);
        var notices = logs.Entries.Where(e => e.Category.EndsWith(nameof(ArchiveOffNotice), StringComparison.Ordinal)).ToList();
        var notice = Assert.Single(notices);
        Assert.Equal(LogLevel.Warning, notice.Level);
        Assert.Contains("Set Archive:Store=AzureBlob", notice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileSystem_on_postgres_without_an_explicit_path_stops_start_up_naming_Archive_Path()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await TestApp.StartAsync(Db.Postgres, s =>
            {
                s["Archive:Store"] = "FileSystem";
                s.Remove("Archive:Path");
            });
        });

        var failures = Flatten(error).OfType<OptionsValidationException>().ToList();
        Assert.Contains(failures, f => f.Message.Contains("needs an explicit Archive:Path", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sqlite_without_a_store_archives_to_the_file_system()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s.Remove("Archive:Store"));

        Assert.Equal(ArchiveStores.FileSystem, app.Get<IOptions<ArchiveOptions>>().Value.EffectiveStore);
    }

    private static IEnumerable<Exception> Flatten(Exception e) =>
        e is AggregateException a ? a.InnerExceptions.SelectMany(Flatten) : [e];
}

using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary><c>archives list</c>, <c>archives retry</c>.</summary>
internal static class ArchivesCommands
{
    private static readonly string[] Statuses = ["failed", "pending", "archived", "expired"];

    public static Command Create(CommandRunner runner)
    {
        var archives = new Command("archives", "Inspect and retry the copies of result videos");
        archives.Add(CreateList(runner));
        archives.Add(CreateRetry(runner));
        return archives;
    }

    private static Command CreateList(CommandRunner runner)
    {
        var status = CommonOptions.Choice("--status", "Archives with this status (default failed)", Statuses);
        var limit = CommonOptions.Limit("Archives per page");
        var cursor = CommonOptions.Cursor();
        var all = CommonOptions.All();
        var command = new Command("list", "List jobs by archive status (GET /v1/admin/archives)") { status, limit, cursor, all };

        runner.SetAction(command, (context, cancellationToken) =>
        {
            var pageSize = context.Get(limit);
            var wanted = context.Get(status);
            return ListOutput.RunAsync(
                context,
                (pageCursor, ct) => context.Client.ListArchivesAsync(wanted, pageSize, pageCursor, ct),
                context.Get(cursor),
                context.Get(all),
                ArchiveTable,
                "archives",
                cancellationToken);
        });
        return command;
    }

    private static Command CreateRetry(CommandRunner runner)
    {
        var jobId = new Argument<string>("jobId") { Description = "The completed job whose archive failed" };
        var command = new Command("retry", "Copy a job's videos again (POST /v1/admin/extensions/{jobId}/archive)") { jobId };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var result = await context.Client.RetryArchiveAsync(context.Get(jobId)!, cancellationToken);
            if (context.Json)
            {
                context.WriteRaw(result.RawJson);
                return ExitCodes.Success;
            }

            await context.Out.WriteLineAsync(
                $"Archive of {result.Value.JobId} is {result.Value.Status}; video.extension.archived is published once the videos are stored.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static TableWriter ArchiveTable(IReadOnlyList<AdminArchive> items)
    {
        var table = new TableWriter("JOB", "PROVIDER", "STATUS", "ATTEMPTS", "VIDEOS", "UPDATED", "ERROR");
        foreach (var a in items)
        {
            table.AddRow(
                a.JobId,
                a.Provider,
                a.Status,
                Fmt.Number(a.Attempts),
                Fmt.Number(a.Videos.Count),
                Fmt.Time(a.UpdatedAt),
                Fmt.Truncate(a.Error is null ? null : $"{a.Error.Code}: {a.Error.Message}", 80));
        }

        return table;
    }
}

using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary><c>jobs show</c>.</summary>
internal static class JobsCommands
{
    public static Command Create(CommandRunner runner)
    {
        var jobs = new Command("jobs", "Inspect extension jobs");
        jobs.Add(CreateShow(runner));
        return jobs;
    }

    private static Command CreateShow(CommandRunner runner)
    {
        var jobId = new Argument<string>("jobId") { Description = "The job id" };
        var command = new Command("show", "Show one job and its events (GET /v1/extensions/{jobId})") { jobId };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var result = await context.Client.GetJobAsync(context.Get(jobId) ?? "", cancellationToken);
            if (context.Json)
            {
                context.WriteRaw(result.RawJson);
                return ExitCodes.Success;
            }

            Write(result.Value, context.Out);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Write(JobResponse job, TextWriter output)
    {
        var fields = new TableWriter();
        fields.AddRow("Job", job.JobId);
        fields.AddRow("Provider", job.Provider);
        fields.AddRow("Provider task", job.ProviderTaskId);
        fields.AddRow("Status", job.Status);
        fields.AddRow("Progress", job.Progress is { } progress ? $"{Fmt.Number(progress)}%" : null);
        fields.AddRow("Correlation id", job.CorrelationId);
        fields.AddRow("Created", Fmt.Time(job.CreatedAt));
        fields.AddRow("Updated", Fmt.Time(job.UpdatedAt));
        if (job.Error is { } error)
        {
            fields.AddRow("Error", string.IsNullOrEmpty(error.Code) ? error.Message : $"{error.Code}: {error.Message}");
        }

        var urls = job.VideoUrls ?? [];
        for (var i = 0; i < urls.Count; i++)
        {
            fields.AddRow(urls.Count == 1 ? "Video" : $"Video {Fmt.Number(i + 1)}", urls[i]);
        }

        if (job.Metadata is { Count: > 0 } metadata)
        {
            fields.AddRow("Metadata", string.Join(", ", metadata.Select(m => $"{m.Key}={m.Value}")));
        }

        fields.WriteTo(output);

        var events = job.Events ?? [];
        output.WriteLine();
        if (events.Count == 0)
        {
            output.WriteLine("No events.");
            return;
        }

        var table = new TableWriter("TIME", "TYPE", "EVENT ID");
        foreach (var e in events)
        {
            table.AddRow(Fmt.Time(e.Time), e.Type, e.Id);
        }

        table.WriteTo(output);
    }
}

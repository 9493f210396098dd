using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary><c>events list</c> and <c>events replay</c>.</summary>
internal static class EventsCommands
{
    public static Command Create(CommandRunner runner)
    {
        var events = new Command("events", "List and replay outbox events");
        events.Add(CreateList(runner));
        events.Add(CreateReplay(runner));
        return events;
    }

    private static Command CreateList(CommandRunner runner)
    {
        var status = CommonOptions.Choice("--status", "Only events in this status", CommonOptions.EventStatuses);
        var provider = CommonOptions.Provider();
        var type = CommonOptions.Text("--type", "Only events of this type, e.g. video.extension.completed", "type");
        var client = CommonOptions.Text("--client", "Only events of this client (tenant), e.g. default", "name");
        var since = CommonOptions.Timestamp("--since", "Only events created at or after");
        var until = CommonOptions.Timestamp("--until", "Only events created before");
        var limit = CommonOptions.Limit("Events per page");
        var cursor = CommonOptions.Cursor();
        var all = CommonOptions.All();

        var command = new Command("list", "List outbox events (GET /v1/admin/events)")
        {
            status, provider, type, client, since, until, limit, cursor, all,
        };

        runner.SetAction(command, (context, cancellationToken) =>
        {
            var query = new EventQuery(
                context.Get(status),
                context.Get(provider),
                context.Get(type),
                context.Get(since),
                context.Get(until),
                context.Get(limit),
                Client: context.Get(client));
            return ListOutput.RunAsync(
                context,
                (pageCursor, ct) => context.Client.ListEventsAsync(query with { Cursor = pageCursor }, ct),
                context.Get(cursor),
                context.Get(all),
                EventTable,
                "events",
                cancellationToken);
        });
        return command;
    }

    private static TableWriter EventTable(IReadOnlyList<AdminEvent> items)
    {
        var table = new TableWriter("SEQ", "EVENT ID", "JOB", "PROVIDER", "TYPE", "STATUS", "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "LAST ERROR");
        foreach (var e in items)
        {
            table.AddRow(
                Fmt.Number(e.Sequence),
                e.EventId,
                e.JobId,
                e.Provider,
                e.Type,
                e.Status,
                Fmt.Number(e.Attempts),
                Fmt.Time(e.CreatedAt),
                Fmt.Time(e.NextAttemptAt),
                Fmt.Truncate(e.LastError, 60));
        }

        return table;
    }

    private static Command CreateReplay(CommandRunner runner)
    {
        var eventId = new Argument<string?>("eventId")
        {
            Description = "The event to replay; leave out to replay in bulk by filter (--status ...)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var force = new Option<bool>("--force")
        {
            Description = "Also replay events already published (consumers may receive them twice)",
        };
        var status = CommonOptions.Choice("--status", "Bulk: replay events in this status (usually failed)", CommonOptions.EventStatuses);
        var provider = CommonOptions.Provider("Bulk: only this provider");
        var type = CommonOptions.Text("--type", "Bulk: only events of this type", "type");
        var client = CommonOptions.Text("--client", "Bulk: only events of this client (tenant)", "name");
        var since = CommonOptions.Timestamp("--since", "Bulk: only events created at or after");
        var until = CommonOptions.Timestamp("--until", "Bulk: only events created before");
        var limit = CommonOptions.Limit("Bulk: replay at most n events");
        var dryRun = new Option<bool>("--dry-run") { Description = "Bulk: only count what would be replayed; change nothing" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Bulk: do not ask for confirmation (needed when stdin is not a terminal)" };

        var command = new Command(
            "replay",
            "Replay one event (POST /v1/admin/events/{eventId}/replay) or, without an id, every event matching a filter (POST /v1/admin/events/replay)")
        {
            eventId, force, status, provider, type, client, since, until, limit, dryRun, yes,
        };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var id = context.Get(eventId);
            var filter = new ReplayFilter(
                context.Get(status),
                context.Get(provider),
                context.Get(type),
                context.Get(since),
                context.Get(until),
                context.Get(limit),
                context.Get(dryRun),
                context.Get(force),
                context.Get(client));

            if (!string.IsNullOrWhiteSpace(id))
            {
                if (filter is not { Status: null, Provider: null, Type: null, Client: null, Since: null, Until: null, Limit: null, DryRun: false })
                {
                    throw new UsageException(
                        "--status, --provider, --type, --since, --until, --limit and --dry-run are for bulk replay; leave out the event id to use them");
                }

                return await ReplayOneAsync(context, id, filter.Force, cancellationToken);
            }

            if (filter.Status is null)
            {
                throw new UsageException("give an event id, or --status (e.g. --status failed) to replay events in bulk");
            }

            return await ReplayBulkAsync(context, filter, context.Get(yes), cancellationToken);
        });
        return command;
    }

    private static async Task<int> ReplayOneAsync(CommandContext context, string eventId, bool force, CancellationToken cancellationToken)
    {
        var result = await context.Client.ReplayEventAsync(eventId, force, cancellationToken);
        if (context.Json)
        {
            context.WriteRaw(result.RawJson);
            return ExitCodes.Success;
        }

        await context.Out.WriteLineAsync(result.Value.Replayed == 1
            ? $"Replayed event {eventId}."
            : $"Replayed {Fmt.Count(result.Value.Replayed, "event")} for {eventId}.");
        if (!string.IsNullOrWhiteSpace(result.Value.Warning))
        {
            await context.Error.WriteLineAsync("warning: " + AdminClient.OneLine(result.Value.Warning));
        }

        return ExitCodes.Success;
    }

    private static async Task<int> ReplayBulkAsync(CommandContext context, ReplayFilter filter, bool yes, CancellationToken cancellationToken)
    {
        if (!filter.DryRun && !yes)
        {
            if (!context.Io.StdinIsInteractive)
            {
                throw new UsageException("bulk replay needs confirmation and stdin is not interactive: pass --yes to replay, or --dry-run to only count");
            }

            var preview = await context.Client.ReplayEventsAsync(filter with { DryRun = true }, cancellationToken);
            var wouldReplay = WouldReplay(preview.Value, filter.Limit);
            if (wouldReplay == 0)
            {
                await context.Error.WriteLineAsync("No events match the filter; nothing to replay.");
                if (context.Json)
                {
                    context.WriteRaw(preview.RawJson);
                }

                return ExitCodes.Success;
            }

            await context.Error.WriteLineAsync($"{Fmt.Count(wouldReplay, "event")} would be replayed.");
            await context.Error.WriteAsync($"Replay {Fmt.Count(wouldReplay, "event")}? [y/N] ");
            await context.Error.FlushAsync(cancellationToken);
            var answer = (await context.Io.In.ReadLineAsync(cancellationToken))?.Trim();
            if (answer is null)
            {
                await context.Error.WriteLineAsync();
            }

            if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
            {
                throw new UsageException("not confirmed; nothing replayed");
            }
        }

        var result = await context.Client.ReplayEventsAsync(filter, cancellationToken);
        if (context.Json)
        {
            context.WriteRaw(result.RawJson);
            return ExitCodes.Success;
        }

        var value = result.Value;
        await context.Out.WriteLineAsync(value.DryRun || filter.DryRun
            ? $"Dry run: {Fmt.Count(WouldReplay(value, filter.Limit), "event")} would be replayed ({Fmt.Number(value.Matched)} matched); nothing changed."
            : $"Replayed {Fmt.Count(value.Replayed, "event")} ({Fmt.Number(value.Matched)} matched).");
        if (!string.IsNullOrWhiteSpace(value.Warning))
        {
            await context.Error.WriteLineAsync("warning: " + AdminClient.OneLine(value.Warning));
        }
        return ExitCodes.Success;
    }

    /// <summary>How many events a dry run says would be replayed: the matches, capped by --limit.</summary>
    private static int WouldReplay(BulkReplayResult preview, int? limit)
    {
        var count = Math.Max(preview.Matched, preview.Replayed);
        return limit is { } max ? Math.Min(count, max) : count;
    }
}

using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary><c>callbacks list</c> and <c>callbacks reprocess</c>.</summary>
internal static class CallbacksCommands
{
    public static Command Create(CommandRunner runner)
    {
        var callbacks = new Command("callbacks", "List stored provider callbacks and reprocess them");
        callbacks.Add(CreateList(runner));
        callbacks.Add(CreateReprocess(runner));
        return callbacks;
    }

    private static Command CreateList(CommandRunner runner)
    {
        var outcome = CommonOptions.Choice("--outcome", "Only callbacks with this outcome", CommonOptions.CallbackOutcomes);
        var provider = CommonOptions.Provider();
        var since = CommonOptions.Timestamp("--since", "Only callbacks received at or after");
        var until = CommonOptions.Timestamp("--until", "Only callbacks received before");
        var limit = CommonOptions.Limit("Callbacks per page");
        var cursor = CommonOptions.Cursor();
        var all = CommonOptions.All();

        var command = new Command("list", "List stored callbacks (GET /v1/admin/callbacks)")
        {
            outcome, provider, since, until, limit, cursor, all,
        };

        runner.SetAction(command, (context, cancellationToken) =>
        {
            var query = new CallbackQuery(
                context.Get(outcome),
                context.Get(provider),
                context.Get(since),
                context.Get(until),
                context.Get(limit));
            return ListOutput.RunAsync(
                context,
                (pageCursor, ct) => context.Client.ListCallbacksAsync(query with { Cursor = pageCursor }, ct),
                context.Get(cursor),
                context.Get(all),
                CallbackTable,
                "callbacks",
                cancellationToken);
        });
        return command;
    }

    private static TableWriter CallbackTable(IReadOnlyList<AdminCallback> items)
    {
        var table = new TableWriter("ID", "RECEIVED", "PROVIDER", "JOB", "OUTCOME", "EVENT ID", "REASON");
        foreach (var c in items)
        {
            table.AddRow(
                Fmt.Number(c.Id),
                Fmt.Time(c.ReceivedAt),
                c.Provider,
                c.JobId,
                c.Outcome,
                c.EventId,
                Fmt.Truncate(c.Reason, 60));
        }

        return table;
    }

    private static Command CreateReprocess(CommandRunner runner)
    {
        var id = new Argument<long>("id")
        {
            Description = "The stored callback's id (see callbacks list)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                result.AddError($"callback id must be a number, not '{text}'");
                return 0;
            },
        };
        var command = new Command("reprocess", "Run a stored callback through processing again (POST /v1/admin/callbacks/{id}/reprocess)")
        {
            id,
        };

        runner.SetAction(command, async (context, cancellationToken) =>
        {
            var result = await context.Client.ReprocessCallbackAsync(context.Get(id), cancellationToken);
            if (context.Json)
            {
                context.WriteRaw(result.RawJson);
                return ExitCodes.Success;
            }

            var value = result.Value;
            var eventPart = string.IsNullOrEmpty(value.EventId) ? "no event" : $"event {value.EventId}";
            await context.Out.WriteLineAsync($"Reprocessed callback {Fmt.Number(value.CallbackId)}: {value.Outcome ?? "unknown"}, {eventPart}.");
            return ExitCodes.Success;
        });
        return command;
    }
}

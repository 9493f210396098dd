using System.CommandLine;

namespace VideoCallbacks.Cli.Commands;

/// <summary><c>audit list</c>.</summary>
internal static class AuditCommands
{
    public static Command Create(CommandRunner runner)
    {
        var audit = new Command("audit", "Read the admin audit log");
        audit.Add(CreateList(runner));
        return audit;
    }

    private static Command CreateList(CommandRunner runner)
    {
        var limit = CommonOptions.Limit("Entries per page");
        var cursor = CommonOptions.Cursor();
        var all = CommonOptions.All();
        var command = new Command("list", "List admin actions (GET /v1/admin/audit)") { limit, cursor, all };

        runner.SetAction(command, (context, cancellationToken) =>
        {
            var pageSize = context.Get(limit);
            return ListOutput.RunAsync(
                context,
                (pageCursor, ct) => context.Client.ListAuditAsync(pageSize, pageCursor, ct),
                context.Get(cursor),
                context.Get(all),
                AuditTable,
                "audit entries",
                cancellationToken);
        });
        return command;
    }

    private static TableWriter AuditTable(IReadOnlyList<AuditEntry> items)
    {
        var table = new TableWriter("ID", "AT", "ADMIN KEY", "ACTION", "TARGET", "COUNT", "DETAILS");
        foreach (var a in items)
        {
            table.AddRow(
                Fmt.Number(a.Id),
                Fmt.Time(a.At),
                a.AdminKeyId,
                a.Action,
                a.Target,
                Fmt.Number(a.Count),
                Fmt.Truncate(a.Details, 80));
        }

        return table;
    }
}

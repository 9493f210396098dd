using System.Reflection;
using Xunit.Sdk;

namespace VideoCallbacks.Tests.Infrastructure;

/// <summary>
/// Runs a <c>[Theory]</c> whose first parameter is a <see cref="Db"/> once on SQLite and once on PostgreSQL, with the
/// rest of the row given here: <c>[BothDatabases(KieProvider.Name, "~stale")]</c> is the two rows
/// <c>(Db.Sqlite, "kie", "~stale")</c> and <c>(Db.Postgres, "kie", "~stale")</c>. Repeat it for more rows.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class BothDatabasesAttribute(params object?[] row) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) => [[Db.Sqlite, .. row], [Db.Postgres, .. row]];
}

/// <summary>
/// Runs a <c>[Theory]</c> taking a <see cref="Db"/> and one value once per value on SQLite and once on PostgreSQL:
/// <c>[EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name)]</c> is four rows.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EachOnBothDatabasesAttribute(params object[] values) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) =>
        values.SelectMany(value => new object?[][] { [Db.Sqlite, value], [Db.Postgres, value] });
}

using System.Reflection;
using Xunit.Sdk;

namespace VideoCallbacks.Tests.Infrastructure;

/// <summary>Runs a <c>[Theory]</c> taking a <see cref="Db"/> once on SQLite and once on PostgreSQL.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BothDatabasesAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[Db.Sqlite], [Db.Postgres]];
}

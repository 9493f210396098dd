using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Security;

/// <summary>
/// The Data Protection key ring in the service's own database, so every instance protects and unprotects with the
/// same keys (a cookie issued by one is accepted by another). Written by hand: the framework ships file, registry and
/// Redis repositories, and the EF Core one would bring EF into a Dapper service for one table. The interface is
/// synchronous; the key ring is read at start-up and when keys roll (every 90 days), so blocking here costs nothing.
/// </summary>
public sealed class DatabaseXmlRepository(SqlDatabase db, TimeProvider time) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        db.ReadAsync<IReadOnlyCollection<XElement>>(async c =>
        {
            var rows = await c.QueryAsync<string>("SELECT xml FROM dataprotection_keys ORDER BY id");
            return rows.Select(x => XElement.Parse(x)).ToList();
        }, CancellationToken.None).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) =>
        db.WriteAsync(c => c.ExecuteAsync(
            "INSERT INTO dataprotection_keys (friendly_name, xml, created_at) VALUES (@friendlyName, @xml, @at)",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), at = time.GetUtcNow().ToUnixTimeMilliseconds() }),
            CancellationToken.None).GetAwaiter().GetResult();
}

using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>
/// The dashboard's stylesheet and script, embedded in the assembly and served from memory. Chosen over wwwroot and
/// static web assets so the same files are there however the service runs (dotnet run, a test host, the published
/// image) without a static-files pipeline for two small files.
/// </summary>
public static class DashboardAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly Dictionary<string, Asset> Assets = Load();

    private static Dictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("dashboard.css", "text/css; charset=utf-8"), ("dashboard.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("VideoCallbacks.Api.Dashboard.Assets." + name)
                ?? throw new InvalidOperationException($"embedded dashboard asset {name} is missing");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            assets[name] = new Asset(bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
        return assets;
    }

    public static Results<FileContentHttpResult, NotFound> Serve(string name, HttpContext http)
    {
        if (!Assets.TryGetValue(name, out var asset)) return TypedResults.NotFound();
        http.Response.Headers.CacheControl = "no-cache";
        return TypedResults.File(asset.Bytes, asset.ContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue(asset.ETag));
    }
}

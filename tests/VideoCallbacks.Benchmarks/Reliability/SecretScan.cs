using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using Npgsql;
using StackExchange.Redis;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// Looks for the service's secrets, in clear text, in whatever it wrote: each secret verbatim, JSON-escaped,
/// URL-encoded and base64'd, matched byte for byte (haystacks are read as Latin-1 so binary files scan too).
/// </summary>
public sealed class SecretScan
{
    private readonly List<(string Needle, string What)> _needles = [];
    private readonly SearchValues<string> _search;

    public SecretScan(IEnumerable<(string Name, string Value)> secrets)
    {
        foreach (var (name, value) in secrets)
        {
            var forms = new[]
            {
                ("verbatim", value), ("JSON-escaped", JavaScriptEncoder.Default.Encode(value)), ("JSON-escaped", value.Replace("/", "\\/", StringComparison.Ordinal)),
                ("URL-encoded", Uri.EscapeDataString(value)), ("base64", Convert.ToBase64String(Encoding.UTF8.GetBytes(value))),
            };
            foreach (var (form, text) in forms.DistinctBy(f => f.Item2))
            {
                _needles.Add((Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text)), $"{name} ({form})"));
            }
        }
        SecretCount = _needles.Select(n => n.What).Distinct().Count();
        _search = SearchValues.Create([.. _needles.Select(n => n.Needle).Distinct()], StringComparison.Ordinal);
    }

    public int SecretCount { get; }

    /// <summary>Every hit in <paramref name="bytes"/>, described as "where: which secret (form)".</summary>
    public List<string> Find(string where, byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var hits = new List<string>();
        var from = 0;
        while (from < text.Length)
        {
            var at = text.AsSpan(from).IndexOfAny(_search);
            if (at < 0) break;
            at += from;
            foreach (var (needle, what) in _needles.Where(n => text.AsSpan(at).StartsWith(n.Needle, StringComparison.Ordinal)))
            {
                var context = text.Substring(Math.Max(0, at - 60), Math.Min(60, at)).ReplaceLineEndings(" ");
                hits.Add($"{where}: {what} after \"{context}\"");
            }
            from = at + 1;
        }
        return hits;
    }

    /// <summary>The SQLite database file and its WAL/SHM companions, as bytes on disk.</summary>
    public static byte[] SqliteFiles(string connectionString)
    {
        var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
        using var all = new MemoryStream();
        foreach (var path in Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file) + "*"))
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            f.CopyTo(all);
        }
        return all.ToArray();
    }

    /// <summary>A plain-text <c>pg_dump</c> of the database (schema and every row).</summary>
    public static async Task<byte[]> PgDumpAsync(string connectionString)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        var bin = Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } env ? env
            : Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).First(d => File.Exists(Path.Combine(d, "pg_dump")));
        var psi = new ProcessStartInfo(Path.Combine(bin, "pg_dump"))
        {
            ArgumentList = { "-h", c.Host!, "-p", c.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", c.Username!, "-d", c.Database!, "--no-owner" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        using var dump = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(dump);
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await copy;
        if (p.ExitCode != 0 || dump.Length == 0) throw new InvalidOperationException($"pg_dump failed ({p.ExitCode}): {await stderr}");
        return dump.ToArray();
    }

    /// <summary>Every key and value in every Redis database, whatever its type; answers the bytes and the key count.</summary>
    public static async Task<(byte[] Bytes, int Keys)> RedisDumpAsync(string configuration)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true");
        var server = mux.GetServer(mux.GetEndPoints()[0]);
        using var all = new MemoryStream();
        var keys = 0;
        for (var d = 0; d < 16; d++)
        {
            if (await server.DatabaseSizeAsync(d) == 0) continue;
            var db = mux.GetDatabase(d);
            await foreach (var key in server.KeysAsync(d, "*", 1000))
            {
                keys++;
                Write(all, key.ToString());
                RedisValue[] values = await db.KeyTypeAsync(key) switch
                {
                    RedisType.String => [await db.StringGetAsync(key)],
                    RedisType.Hash => [.. (await db.HashGetAllAsync(key)).SelectMany(e => new[] { e.Name, e.Value })],
                    RedisType.List => await db.ListRangeAsync(key),
                    RedisType.Set => await db.SetMembersAsync(key),
                    RedisType.SortedSet => await db.SortedSetRangeByRankAsync(key),
                    RedisType.Stream => [.. (await db.StreamRangeAsync(key)).SelectMany(e => e.Values.SelectMany(v => new[] { v.Name, v.Value }))],
                    _ => [],
                };
                foreach (var v in values.Where(v => v.HasValue)) all.Write((byte[])v!);
            }
        }
        return (all.ToArray(), keys);
    }

    private static void Write(MemoryStream to, string text)
    {
        to.Write(Encoding.UTF8.GetBytes(text));
        to.WriteByte((byte)'\n');
    }
}

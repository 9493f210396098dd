using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace VideoCallbacks.Simulator;

/// <summary>
/// Fake CDN behind the result URLs: small deterministic MP4s per (task, index). It misbehaves as the URL's query
/// string says; the query is copied from the task's <c>~cdn-*</c> directives, so a download needs no shared state.
/// </summary>
internal sealed class CdnSimulator(TimeProvider time)
{
    public const string Provider = "cdn";

    /// <summary>Length of a normal video: a few KB, enough to look like a file, small enough for any test.</summary>
    public const int DefaultVideoLength = 6 * 1024;

    private const int PatternLength = 4 * 1024;
    private const int ChunkLength = 64 * 1024;

    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>The <c>ftyp</c> and <c>free</c> boxes every video starts with; the <c>mdat</c> header follows.</summary>
    private static readonly byte[] Prefix = BuildPrefix();

    private static readonly byte[] HtmlPage = Encoding.UTF8.GetBytes(
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in to continue</h1>" +
        "<p>Simulated CDN page served instead of the video.</p></body></html>");

    // Requests seen per URL carrying fail=n; only such URLs are kept, so it stays as small as the tests using it.
    private readonly ConcurrentDictionary<string, int> failCounts = new(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder group) =>
        group.MapMethods("/{taskId}/{file}", Methods,
            (HttpContext context, string taskId, string file, CdnSimulator cdn) => cdn.ServeAsync(context, taskId, file));

    /// <summary>
    /// The exact bytes served for <c>{taskId}/{index}.mp4</c> (<paramref name="length"/> bytes, as with <c>huge</c>): an
    /// <c>ftyp</c> box (isom, minor 0x200, compatible isom/iso2/mp41), a <c>free</c> box, then an <c>mdat</c> box whose
    /// payload repeats 4 KB expanded from SHA-256 of <c>taskId + "/" + index</c>.
    /// </summary>
    public static byte[] VideoBytes(string taskId, int index, int length = DefaultVideoLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var bytes = new byte[length];
        Fill(bytes, 0, Header(length), Pattern(taskId, index));
        return bytes;
    }

    /// <summary>The query string carrying a task's <c>~cdn-*</c> directives into its result URLs; empty without any.</summary>
    internal static string Query(Directives directives)
    {
        var parts = new List<string>();
        if (directives.Has("cdn-missing")) parts.Add("missing=1");
        if (directives.GetInt("cdn-slow", 0) is > 0 and var slow) parts.Add(Pair("slow", slow));
        if (directives.GetInt("cdn-huge", 0) is > 0 and var huge) parts.Add(Pair("huge", huge));
        if (directives.Has("cdn-chunked")) parts.Add("chunked=1");
        if (directives.Has("cdn-html")) parts.Add("html=1");
        // A bare ~cdn-fail fails once.
        if (directives.Has("cdn-fail") && directives.GetInt("cdn-fail", 1) is > 0 and var fail) parts.Add(Pair("fail", fail));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    public async Task ServeAsync(HttpContext context, string taskId, string file)
    {
        var request = context.Request;
        var response = context.Response;
        var query = request.Query;
        if (!TryParseIndex(file, out var index) || query.ContainsKey("missing"))
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, "Not Found");
            return;
        }

        var failures = Number(query, "fail");
        if (failures > 0)
        {
            var url = string.Concat(request.PathBase.Value, request.Path.Value, request.QueryString.Value);
            // Capped, so a URL downloaded forever never overflows its count.
            if (failCounts.AddOrUpdate(url, 1, (_, n) => Math.Min(n, failures) + 1) <= failures)
            {
                await PlainAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable (simulated)");
                return;
            }
        }

        var html = query.ContainsKey("html");
        var huge = Number(query, "huge");
        var length = html ? HtmlPage.Length : huge > 0 ? huge : DefaultVideoLength;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = html ? "text/html; charset=utf-8" : "video/mp4";
        // Without a length Kestrel sends the body chunked: the client learns the size only at its end.
        if (!query.ContainsKey("chunked")) response.ContentLength = length;

        var cancellationToken = context.RequestAborted;
        try
        {
            if (Number(query, "slow") is > 0 and var slow)
            {
                // Headers first, then the stall: a client that waits for headers only still meets it in the body.
                await response.StartAsync(cancellationToken);
                await Task.Delay(TimeSpan.FromMilliseconds(slow), time, cancellationToken);
            }

            if (HttpMethods.IsHead(request.Method)) return;
            if (html) await response.Body.WriteAsync(HtmlPage, cancellationToken);
            else await WriteVideoAsync(response.Body, taskId, index, length, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client gave up (its own timeout): nobody is left to answer.
        }
    }

    /// <summary>Writes the video in chunks, so a huge one is never held in memory at once.</summary>
    private static async Task WriteVideoAsync(Stream body, string taskId, int index, int length, CancellationToken cancellationToken)
    {
        var header = Header(length);
        var pattern = Pattern(taskId, index);
        var buffer = new byte[Math.Min(ChunkLength, length)];
        for (var offset = 0; offset < length; offset += buffer.Length)
        {
            var count = Math.Min(buffer.Length, length - offset);
            Fill(buffer.AsSpan(0, count), offset, header, pattern);
            await body.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
        }
    }

    /// <summary>Bytes <paramref name="offset"/>.. of the video: the header, then the pattern repeated.</summary>
    private static void Fill(Span<byte> destination, int offset, byte[] header, byte[] pattern)
    {
        while (!destination.IsEmpty)
        {
            var source = offset < header.Length
                ? header.AsSpan(offset)
                : pattern.AsSpan((offset - header.Length) % pattern.Length);
            var count = Math.Min(source.Length, destination.Length);
            source[..count].CopyTo(destination);
            destination = destination[count..];
            offset += count;
        }
    }

    /// <summary>The prefix boxes and the <c>mdat</c> header sized for a video of <paramref name="length"/> bytes.</summary>
    private static byte[] Header(int length)
    {
        var header = new byte[Prefix.Length + 8];
        Prefix.CopyTo(header, 0);
        // A video cut shorter than its header (huge below ~70 bytes) is simply truncated; its mdat claims nothing.
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(Prefix.Length), (uint)Math.Max(8, length - Prefix.Length));
        "mdat"u8.CopyTo(header.AsSpan(Prefix.Length + 4));
        return header;
    }

    /// <summary>4 KB of SHA-256 in counter mode over SHA-256(<c>taskId/index</c>): distinct per task and index, and cheap to repeat.</summary>
    private static byte[] Pattern(string taskId, int index)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{taskId}/{index}")));
        var pattern = new byte[PatternLength];
        var block = new byte[seed.Length + 4];
        seed.CopyTo(block, 0);
        for (var i = 0; i < PatternLength / SHA256.HashSizeInBytes; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(block.AsSpan(seed.Length), i);
            SHA256.HashData(block, pattern.AsSpan(i * SHA256.HashSizeInBytes));
        }

        return pattern;
    }

    private static byte[] BuildPrefix()
    {
        // ftyp as a plain ffmpeg MP4 has it: major brand isom, minor version 0x200, compatible isom, iso2, mp41.
        var ftyp = new byte[20];
        "isom"u8.CopyTo(ftyp);
        BinaryPrimitives.WriteUInt32BigEndian(ftyp.AsSpan(4), 0x200);
        "isom"u8.CopyTo(ftyp.AsSpan(8));
        "iso2"u8.CopyTo(ftyp.AsSpan(12));
        "mp41"u8.CopyTo(ftyp.AsSpan(16));
        return [.. Box("ftyp"u8, ftyp), .. Box("free"u8, "VideoCallbacks.Simulator"u8.ToArray())];
    }

    private static byte[] Box(ReadOnlySpan<byte> type, byte[] payload)
    {
        var box = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(box, (uint)box.Length);
        type.CopyTo(box.AsSpan(4));
        payload.CopyTo(box, 8);
        return box;
    }

    private static bool TryParseIndex(string file, out int index)
    {
        index = 0;
        return file.EndsWith(".mp4", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(file.AsSpan(0, file.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>A non-negative integer query value; 0 when absent or not one.</summary>
    private static int Number(IQueryCollection query, string name) =>
        int.TryParse(query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static string Pair(string name, int value) => name + "=" + value.ToString(CultureInfo.InvariantCulture);

    private static async Task PlainAsync(HttpContext context, int statusCode, string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await response.Body.WriteAsync(body, context.RequestAborted);
    }
}

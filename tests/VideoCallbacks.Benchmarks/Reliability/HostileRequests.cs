using System.Globalization;
using System.Text;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Testing;

// One generator per endpoint family plus the body mutators they share; split further it would scatter one table.
namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>One generated request. <paramref name="Endpoint"/> groups the answers; <paramref name="Category"/> says what is wrong with it.</summary>
public sealed record HostileRequest(string Endpoint, string Category, HttpMethod Method, string Path, byte[]? Body, string? ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers, bool Stream = false);

/// <summary>What the generator aims at: genuine jobs (with their tokens and secrets), events and stored callbacks.</summary>
public sealed record HostileTargets(IReadOnlyList<HandedOver> Kie, IReadOnlyList<HandedOver> Apiframe, IReadOnlyList<string> NanoGptJobs,
    IReadOnlyList<string> EventIds, IReadOnlyList<long> CallbackIds, string KieHmacKey);

/// <summary>
/// Hostile requests across every public endpoint. Request i is made from its own seed (drawn from the run's seed),
/// so a run is reproducible however the sends interleave, and a 2 MB body exists only while it is being sent.
/// Every callback carries at least one wrong credential, except Apiframe's "verified-unparseable" (right token and
/// secret, a body that is not a JSON object), which must be stored as not understood and change nothing.
/// </summary>
public sealed class HostileRequests(HostileTargets targets)
{
    private static readonly (string Endpoint, int Weight)[] Endpoints =
    [
        ("submit", 22), ("job", 8), ("feed", 6), ("stream", 2), ("admin-events", 5), ("admin-callbacks", 4), ("admin-audit", 2),
        ("replay-one", 3), ("replay-bulk", 4), ("purge", 3), ("reprocess", 3), ("callback-kie", 14), ("callback-apiframe", 14),
        ("callback-nanogpt", 2), ("health", 3), ("junk-path", 3), ("wrong-method", 2),
    ];

    private static readonly string[] Unicode =
    [
        "日本語のプロンプト", "🎬🎥📽️👨‍👩‍👧‍👦", "\u202Egnp.exe", "a\u200B\u200C\u200Db", "e\u0301\u0301\u0301\u0301", "\u0000nul", "\uFEFFbom",
        "ﷺ", "\\ud800", "Z̸̢̛͓͈a̵̟͚l̶g̸o̷", "\r\n\t", "<script>alert(1)</script>", "' OR 1=1 --", "${jndi:ldap://x}", "%00%2e%2e%2f",
    ];

    private static readonly string[] HostileValues =
    [
        "", " ", "-1", "0", "1e3", "1.5", "NaN", "null", "true", "[]", "{}", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "99999999999999999999999999", "2147483648", "abc", "' OR '1'='1", "failed;DROP TABLE jobs", "%", "%zz", "\u0000", "日本", "🎥",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-13-45T99:99:99Z",
        "infinity", "-infinity", "1970-01-01", "failed,published", "FAILED", "kie ", "video.extension.*",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
        "application/json; charset=latin1", "application/octet-stream", "*/*", "application/json; charset=\"", "image/png",
    ];

    private static readonly string[] NotObjects = ["", "null", "[]", "0", "\"x\"", "{}", "true", "{{}}", "\u0000"];
    private static readonly string[] EdgeNumbers = ["1e400", "-1", "4", "2147483648", "1.5", "-0", "\"0\"", "true", "null", "0x10"];
    private static readonly string[] LoneSurrogates = ["\\ud800", "a\\udc00b", "\\ud83c"];
    private static readonly int[] Depths = [9, 64, 1_000, 20_000];
    private static readonly int[] HugeLengths = [3_000, 70_000, 300_000];
    private static readonly int[] OversizedLengths = [70_000, 300_000, 1_100_000, 2_000_000];

    public HostileRequest Generate(int seed)
    {
        var r = new Random(seed);
        var endpoint = Pick(r, Endpoints);
        return endpoint switch
        {
            "submit" => Submit(r),
            "job" => Keyed(r, "job", HttpMethod.Get, "/v1/extensions/" + JobIdOrJunk(r) + MaybeQuery(r), admin: false),
            "feed" => Keyed(r, "feed", HttpMethod.Get, "/v1/events" + Query(r, "after", "limit"), admin: false),
            "stream" => Keyed(r, "stream", HttpMethod.Get, "/v1/events/stream" + Query(r, "after"), admin: false,
                headers: r.Next(2) == 0 ? [new("Last-Event-ID", Hostile(r))] : null) with { Stream = true },
            "admin-events" => Keyed(r, endpoint, HttpMethod.Get, "/v1/admin/events" + Query(r, "status", "provider", "type", "since", "until", "limit", "cursor"), admin: true),
            "admin-callbacks" => Keyed(r, endpoint, HttpMethod.Get, "/v1/admin/callbacks" + Query(r, "outcome", "provider", "since", "until", "limit", "cursor"), admin: true),
            "admin-audit" => Keyed(r, endpoint, HttpMethod.Get, "/v1/admin/audit" + Query(r, "limit", "cursor"), admin: true),
            "replay-one" => Keyed(r, endpoint, HttpMethod.Post, $"/v1/admin/events/{EventIdOrJunk(r)}/replay" + Query(r, "force"), admin: true),
            "replay-bulk" or "purge" => AdminFilter(r, endpoint),
            "reprocess" => Keyed(r, endpoint, HttpMethod.Post, $"/v1/admin/callbacks/{CallbackIdOrJunk(r)}/reprocess", admin: true),
            "callback-kie" => KieCallback(r),
            "callback-apiframe" => ApiframeCallback(r),
            "callback-nanogpt" => Anonymous("callback-nanogpt", "no-webhooks", "/v1/callbacks/nanogpt/" + JobIdOrJunk(r) + "/" + Token(r), Body(r, KieBody(r, "x"))),
            "health" => new HostileRequest("health", "probe", r.Next(4) == 0 ? HttpMethod.Head : HttpMethod.Get,
                (r.Next(2) == 0 ? "/healthz" : "/readyz") + MaybeQuery(r), null, null, ApiKey(r, admin: false)),
            "junk-path" => new HostileRequest("junk-path", "unknown-route", HttpMethod.Get, JunkPath(r), null, null, ApiKey(r, admin: r.Next(2) == 0)),
            _ => WrongMethod(r),
        };
    }

    // ------------------------------------------------------------------ client and admin API

    private static HostileRequest Submit(Random r)
    {
        var (category, body, type) = r.Next(10) == 0 ? ("valid-unicode", Encoding.UTF8.GetBytes(SubmissionJson(r, Unicode[r.Next(Unicode.Length)])), "application/json") : Body(r, SubmissionJson(r, "extend it"));
        var headers = ApiKey(r, admin: false).ToList();
        if (r.Next(4) == 0) headers.Add(new("Idempotency-Key", r.Next(3) == 0 ? new string('k', r.Next(150, 400)) : Hostile(r)));
        return new HostileRequest("submit", category, HttpMethod.Post, "/v1/extensions", body, type, headers);
    }

    private static string SubmissionJson(Random r, string text) => r.Next(3) switch
    {
        0 => $$$"""{"provider":"kie","sourceTaskId":"src-{{{r.Next()}}}","index":{{{r.Next(4)}}},"mode":"manual","prompt":{{{Json(text)}}},"metadata":{"k":{{{Json(text)}}}}}""",
        1 => $$"""{"provider":"apiframe","sourceTaskId":"src-{{r.Next()}}","index":{{r.Next(4)}},"prompt":{{Json(text)}},"motion":"low","correlationId":{{Json(text)}}}""",
        _ => $$"""{"provider":"nanogpt","sourceTaskId":"src-{{r.Next()}}","index":{{r.Next(4)}}}""",
    };

    private static HostileRequest AdminFilter(Random r, string endpoint)
    {
        var filter = $$"""{"status":"failed","provider":"kie","type":"video.extension.completed","since":"2026-01-01T00:00:00Z","until":"2099-01-01T00:00:00Z","limit":{{r.Next(1, 200)}},"dryRun":{{(r.Next(3) == 0 ? "false" : "true")}},"force":{{(r.Next(2) == 0 ? "true" : "false")}}}""";
        var (category, body, type) = Body(r, filter);
        return new HostileRequest(endpoint, category, HttpMethod.Post, endpoint == "purge" ? "/v1/admin/events/purge" : "/v1/admin/events/replay", body, type, ApiKey(r, admin: true));
    }

    private static HostileRequest Keyed(Random r, string endpoint, HttpMethod method, string path, bool admin, List<KeyValuePair<string, string>>? headers = null)
    {
        var keys = ApiKey(r, admin);
        var category = keys.Count == 1 && keys[0].Value == (admin ? TestKeys.Admin : TestKeys.Client) ? "hostile-query" : "bad-key";
        return new HostileRequest(endpoint, category, method, path, null, null, [.. keys, .. headers ?? []]);
    }

    /// <summary>Mostly the right key, so handlers see the hostile input; otherwise a missing, wrong, near-miss or oversized one.</summary>
    private static List<KeyValuePair<string, string>> ApiKey(Random r, bool admin)
    {
        var right = admin ? TestKeys.Admin : TestKeys.Client;
        string? key = r.Next(10) switch
        {
            < 7 => right,
            7 => null,
            8 => r.Next(8) switch
            {
                0 => "",
                1 => right + "x",
                2 => right.ToUpperInvariant(),
                3 => right[..^1],
                4 => admin ? TestKeys.Client : TestKeys.Admin,
                5 => new string('a', 600),
                6 => " " + right,
                _ => "ключ🔑",
            },
            _ => "wrong-" + r.Next(),
        };
        return key is null ? [] : [new("X-Api-Key", key)];
    }

    private HostileRequest WrongMethod(Random r)
    {
        var method = new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Options, HttpMethod.Get }[r.Next(5)];
        var path = new[] { "/v1/extensions", "/v1/extensions/" + JobIdOrJunk(r), "/v1/admin/events", "/v1/callbacks/kie/a/b", "/v1/events", "/healthz" }[r.Next(6)];
        return new HostileRequest("wrong-method", "method", method, path, r.Next(2) == 0 ? "{}"u8.ToArray() : null, "application/json", ApiKey(r, admin: true));
    }

    // ------------------------------------------------------------------ callbacks

    private HostileRequest KieCallback(Random r)
    {
        var job = targets.Kie[r.Next(targets.Kie.Count)];
        var other = targets.Kie[r.Next(targets.Kie.Count)];
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var fresh = now.ToString(CultureInfo.InvariantCulture);
        var (category, jobId, token, taskId, timestamp, signature) = r.Next(9) switch
        {
            0 => ("unknown-job", "job_" + Guid.NewGuid().ToString("N"), Token(r), job.TaskId, fresh, (string?)null),
            1 => ("other-jobs-token", job.JobId, OtherToken(r, job), job.TaskId, fresh, null),
            2 => ("forged-signature", job.JobId, job.Token, job.TaskId, fresh, KieCallbacks.Sign("not-the-key-" + r.Next(), job.TaskId, fresh)),
            3 => ("forged-signature", job.JobId, job.Token, job.TaskId, fresh, Convert.ToBase64String(Guid.NewGuid().ToByteArray())),
            4 => ("stale-signature", job.JobId, job.Token, job.TaskId, (now - r.Next(301, 1_000_000)).ToString(CultureInfo.InvariantCulture), null),
            5 => ("stale-signature", job.JobId, job.Token, job.TaskId, (now + r.Next(301, 100_000)).ToString(CultureInfo.InvariantCulture), null),
            6 => ("bad-timestamp", job.JobId, job.Token, job.TaskId, Hostile(r), null),
            7 => ("other-jobs-task", job.JobId, job.Token, other.TaskId == job.TaskId ? "kie-other" : other.TaskId, fresh, null),
            _ => ("path-mangled", job.JobId, OtherToken(r, job), job.TaskId, fresh, null),
        };
        // Unless forged above, the signature is genuine for what is sent: the credential that is wrong is the one the category names.
        signature ??= KieCallbacks.Sign(targets.KieHmacKey, taskId, timestamp);
        var headers = new List<KeyValuePair<string, string>>();
        if (r.Next(12) != 0) headers.Add(new(KieCallbacks.TimestampHeader, timestamp));
        if (r.Next(12) != 0) headers.Add(new(KieCallbacks.SignatureHeader, signature));
        var (bodyCategory, body, type) = r.Next(2) == 0 ? ("completion", Encoding.UTF8.GetBytes(KieBody(r, taskId)), "application/json") : Body(r, KieBody(r, taskId));
        return new HostileRequest("callback-kie", category + "/" + bodyCategory, HttpMethod.Post, CallbackPath(r, "kie", jobId, token, category == "path-mangled"), body, type, headers);
    }

    private HostileRequest ApiframeCallback(Random r)
    {
        var job = targets.Apiframe[r.Next(targets.Apiframe.Count)];
        var other = targets.Apiframe[r.Next(targets.Apiframe.Count)];
        var (category, jobId, token, secret) = r.Next(8) switch
        {
            0 => ("unknown-job", "job_" + Guid.NewGuid().ToString("N"), Token(r), job.WebhookSecret),
            1 => ("other-jobs-token", job.JobId, OtherToken(r, job), job.WebhookSecret),
            2 => ("wrong-secret", job.JobId, job.Token, other.JobId == job.JobId ? "wrong-" + r.Next() : other.WebhookSecret),
            3 => ("wrong-secret", job.JobId, job.Token, new[] { null, "", job.WebhookSecret + "x", new string('s', 5000), "ключ" }[r.Next(5)]),
            4 => ("wrong-provider", targets.Kie[r.Next(targets.Kie.Count)].JobId, targets.Kie[r.Next(targets.Kie.Count)].Token, job.WebhookSecret),
            5 => ("verified-unparseable", job.JobId, job.Token, job.WebhookSecret),
            6 => ("other-jobs-task", job.JobId, job.Token, job.WebhookSecret),
            _ => ("path-mangled", job.JobId, OtherToken(r, job), job.WebhookSecret),
        };
        var headers = secret is null ? new List<KeyValuePair<string, string>>() : [new(ApiframeCallbacks.SecretHeader, secret)];
        var taskId = category == "other-jobs-task" ? (other.JobId == job.JobId ? "apiframe-other" : other.TaskId) : job.TaskId;
        var (bodyCategory, body, type) = category == "verified-unparseable"
            ? Unparseable(r)
            : r.Next(2) == 0 ? ("completion", Encoding.UTF8.GetBytes(ApiframeBody(r, taskId)), "application/json") : Body(r, ApiframeBody(r, taskId));
        if (category == "other-jobs-task" && bodyCategory != "completion")
        {
            // Right token and secret: only a body naming another task may be sent, or the callback would be genuine.
            (bodyCategory, body, type) = ("completion", Encoding.UTF8.GetBytes(ApiframeBody(r, taskId)), "application/json");
        }
        return new HostileRequest("callback-apiframe", category + "/" + bodyCategory, HttpMethod.Post, CallbackPath(r, "apiframe", jobId, token, category == "path-mangled"), body, type, headers);
    }

    private static string KieBody(Random r, string taskId) => r.Next(2) == 0
        ? $$$"""{"code":200,"msg":"success","data":{"taskId":{{{Json(taskId)}}},"resultUrls":["https://cdn.example.com/forged-{{{r.Next()}}}.mp4"]}}"""
        : $$$"""{"code":501,"msg":"forged failure {{{r.Next()}}}","data":{"taskId":{{{Json(taskId)}}}}}""";

    private static string ApiframeBody(Random r, string taskId) => r.Next(2) == 0
        ? $$"""{"task_id":{{Json(taskId)}},"status":"finished","video_urls":["https://cdn.example.com/forged-{{r.Next()}}.mp4"]}"""
        : $$"""{"task_id":{{Json(taskId)}},"status":"processing","percentage":{{r.Next(101)}}}""";

    /// <summary>Bodies that are never a JSON object, whatever else is right.</summary>
    private static (string, byte[], string?) Unparseable(Random r)
    {
        var full = $$"""{"task_id":"x","status":"finished","video_urls":["https://cdn.example.com/v.mp4"]}""";
        var text = r.Next(6) switch
        {
            5 => full.Replace("\"x\"", "\"x\u0000\"", StringComparison.Ordinal)[..^1] + "\u0000",
            0 => full[..r.Next(0, full.Length - 1)],
            1 => "[" + full + "]",
            2 => "\"" + full.Replace("\"", "'", StringComparison.Ordinal) + "\"",
            3 => "<xml>" + full + "</xml>",
            _ => "null",
        };
        return ("unparseable", Encoding.UTF8.GetBytes(text), r.Next(2) == 0 ? "application/json" : ContentTypes[r.Next(ContentTypes.Length)]);
    }

    private static string CallbackPath(Random r, string provider, string jobId, string token, bool mangled)
    {
        if (!mangled)
        {
            return r.Next(20) switch
            {
                0 => $"/v1/callbacks/{provider}/{new string('j', r.Next(65, 3000))}/{token}",
                1 => $"/v1/callbacks/{provider}/{jobId}%00/{token}",
                _ => $"/v1/callbacks/{provider}/{jobId}/{token}",
            };
        }
        // Someone else's genuine token in a path that is almost the callback URL: refused, and never logged in clear.
        return r.Next(6) switch
        {
            0 => $"/V1/CALLBACKS/{provider}/{jobId}/{token}",
            1 => $"/v1/Callbacks/{provider.ToUpperInvariant()}/{jobId}/{token}",
            2 => $"/v1/callbacks/{provider}/{jobId}//{token}",
            3 => $"/v1/callbacks/{provider}/{jobId}/{token}/extra",
            4 => $"/v1/callbacks/{provider}/{jobId}%2F{token}",
            _ => $"/v1/callbacks/{provider}/{jobId}/{token}?retry=1",
        };
    }

    // ------------------------------------------------------------------ bodies

    /// <summary>A valid body mutated one hostile way; answers the mutation's name, the bytes and the content type.</summary>
    private static (string Category, byte[] Body, string? ContentType) Body(Random r, string valid)
    {
        var json = "application/json";
        switch (r.Next(14))
        {
            case 12:
                // Escaped lone surrogates parse as JSON but throw when read as text, as a value or as a property name.
                var lone = LoneSurrogates[r.Next(LoneSurrogates.Length)];
                return ("lone-surrogate", Encoding.UTF8.GetBytes(Insert(valid, r.Next(2) == 0 ? $"\"prompt\":\"{lone}\"" : $"\"{lone}\":1")), json);
            case 0: return ("malformed", Encoding.UTF8.GetBytes(Malform(r, valid)), json);
            case 1: return ("truncated", Encoding.UTF8.GetBytes(valid[..r.Next(0, valid.Length)]), json);
            case 2: return ("wrong-types", Encoding.UTF8.GetBytes(WrongTypes(r, valid)), json);
            case 3: return ("deep-nesting", Encoding.UTF8.GetBytes(Nest(r, valid)), json);
            case 4:
                var huge = new string("aé日x"[r.Next(4)], HugeLengths[r.Next(HugeLengths.Length)]);
                return ("huge-string", Encoding.UTF8.GetBytes(Insert(valid, $"\"huge\":{Json(huge)}")), json);
            case 5: return ("unicode", Encoding.UTF8.GetBytes(Insert(valid, $"\"u\":{Json(Unicode[r.Next(Unicode.Length)])}")), json);
            case 6:
                // Raw invalid UTF-8 inside a string value: overlong, lone continuation, surrogate half, 0xFF.
                var bad = new[] { new byte[] { 0xC0, 0xAF }, [0x80], [0xED, 0xA0, 0x80], [0xFF, 0xFE], [0xC3, 0x28] }[r.Next(5)];
                var bytes = Encoding.UTF8.GetBytes(valid);
                var at = Array.IndexOf(bytes, (byte)'"', 2) + 1;
                return ("invalid-utf8", [.. bytes[..at], .. bad, .. bytes[at..]], json);
            case 7: return ("wrong-content-type", Encoding.UTF8.GetBytes(valid), r.Next(6) == 0 ? null : ContentTypes[r.Next(ContentTypes.Length)]);
            case 8:
                var size = OversizedLengths[r.Next(OversizedLengths.Length)];
                return ("oversized", Encoding.UTF8.GetBytes(Insert(valid, $"\"pad\":\"{new string('x', size)}\"")), json);
            case 9:
                var firstKey = valid[2..valid.IndexOf('"', 2)];
                return ("duplicate-keys", Encoding.UTF8.GetBytes(Insert(valid, $"\"{firstKey}\":{Json(Hostile(r))}")), json);
            case 10: return ("not-an-object", Encoding.UTF8.GetBytes(NotObjects[r.Next(NotObjects.Length)]), json);
            case 11: return ("number-edge", Encoding.UTF8.GetBytes(Insert(valid, $"\"index\":{EdgeNumbers[r.Next(EdgeNumbers.Length)]}")), json);
            default: return ("unknown-field", Encoding.UTF8.GetBytes(Insert(valid, $"\"{Hostile(r).Replace("\"", "", StringComparison.Ordinal)}x\":1")), json);
        }
    }

    private static string Insert(string json, string member) => json.Length > 2 && json[0] == '{' ? "{" + member + "," + json[1..] : json;

    private static string Malform(Random r, string s)
    {
        var chars = s.ToCharArray().ToList();
        for (var i = 0; i < r.Next(1, 6); i++)
        {
            var at = r.Next(chars.Count);
            if (r.Next(2) == 0) chars.RemoveAt(at);
            else chars.Insert(at, "{}[]:,\"\\"[r.Next(8)]);
        }
        return new string([.. chars]);
    }

    private static string WrongTypes(Random r, string s)
    {
        // Replace one value (after a colon) with a value of another type.
        var colons = Enumerable.Range(0, s.Length).Where(i => s[i] == ':').ToList();
        var at = colons[r.Next(colons.Count)] + 1;
        var end = at;
        var depth = 0;
        for (; end < s.Length; end++)
        {
            if (s[end] is '{' or '[') depth++;
            else if (s[end] is '}' or ']') { if (depth-- == 0) break; }
            else if (s[end] == ',' && depth == 0) break;
        }
        var replacement = new[] { "123", "-1.5e10", "true", "null", "[1,2]", "{\"a\":1}", "\"str\"", "[]", "{}" }[r.Next(9)];
        return s[..at] + replacement + s[end..];
    }

    private static string Nest(Random r, string valid)
    {
        var depth = Depths[r.Next(Depths.Length)];
        var arrays = r.Next(2) == 0;
        var nested = arrays ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
        return r.Next(2) == 0 ? nested : Insert(valid, $"\"metadata\":{nested}");
    }

    // ------------------------------------------------------------------ targets and small values

    private static HostileRequest Anonymous(string endpoint, string category, string path, (string Category, byte[] Body, string? ContentType) body) =>
        new(endpoint, category + "/" + body.Category, HttpMethod.Post, path, body.Body, body.ContentType, []);

    private string JobIdOrJunk(Random r) => r.Next(6) switch
    {
        0 => targets.Kie[r.Next(targets.Kie.Count)].JobId,
        1 => targets.NanoGptJobs[r.Next(targets.NanoGptJobs.Count)],
        2 => "job_" + Guid.NewGuid().ToString("N"),
        3 => new string('j', r.Next(65, 5000)),
        4 => Uri.EscapeDataString(Unicode[r.Next(Unicode.Length)]),
        _ => Uri.EscapeDataString(Hostile(r)) is { Length: > 0 } v ? v : "%20",
    };

    private string EventIdOrJunk(Random r) => r.Next(4) switch
    {
        0 or 1 => Uri.EscapeDataString(targets.EventIds[r.Next(targets.EventIds.Count)]),
        2 => new string('e', r.Next(201, 3000)),
        _ => Uri.EscapeDataString(Hostile(r)) is { Length: > 0 } v ? v : "%20",
    };

    private string CallbackIdOrJunk(Random r) => r.Next(3) == 0 && targets.CallbackIds.Count > 0
        ? targets.CallbackIds[r.Next(targets.CallbackIds.Count)].ToString(CultureInfo.InvariantCulture)
        : Uri.EscapeDataString(Hostile(r)) is { Length: > 0 } v ? v : "0";

    private string OtherToken(Random r, HandedOver job)
    {
        var all = targets.Kie.Concat(targets.Apiframe).Where(h => h.JobId != job.JobId).ToList();
        return all[r.Next(all.Count)].Token;
    }

    private static string Token(Random r) => r.Next(4) == 0 ? new string('t', r.Next(129, 4000)) : Guid.NewGuid().ToString("N");

    private static string Hostile(Random r) => r.Next(4) == 0 ? Unicode[r.Next(Unicode.Length)] : HostileValues[r.Next(HostileValues.Length)];

    private static string Query(Random r, params string[] names)
    {
        var parts = new List<string>();
        foreach (var name in names)
        {
            if (r.Next(2) == 0) continue;
            parts.Add(name + "=" + Uri.EscapeDataString(Hostile(r)));
            if (r.Next(8) == 0) parts.Add(name + "=" + Uri.EscapeDataString(Hostile(r)));
        }
        if (r.Next(10) == 0) parts.Add("x=" + new string('q', r.Next(1_000, 12_000)));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static string MaybeQuery(Random r) => r.Next(4) == 0 ? Query(r, "after", "x", "jobId") : "";

    private static string JunkPath(Random r) => r.Next(8) switch
    {
        0 => "/v1/",
        1 => "/v1/callbacks",
        2 => "/v1/callbacks/kie",
        3 => "/sandbox/kie/api/v1/mj/generateVideoExtend",
        4 => "/openapi/v1.json",
        5 => "/%2e%2e/%2e%2e/etc/passwd",
        6 => "/" + new string('p', r.Next(1_000, 20_000)),
        _ => "/v1/" + Uri.EscapeDataString(Unicode[r.Next(Unicode.Length)]),
    };

    private static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private static string Pick(Random r, (string Name, int Weight)[] weighted)
    {
        var n = r.Next(weighted.Sum(w => w.Weight));
        foreach (var (name, weight) in weighted)
        {
            if (n < weight) return name;
            n -= weight;
        }
        return weighted[^1].Name;
    }
}

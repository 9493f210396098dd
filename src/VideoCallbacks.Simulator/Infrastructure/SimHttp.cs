using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace VideoCallbacks.Simulator;

/// <summary>Request and response plumbing shared by the three fake providers.</summary>
internal static class SimHttp
{
    /// <summary>
    /// The simulator's own serializer settings, so the wire format does not change with whatever
    /// JSON options the host application configured.
    /// </summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        Converters = { new JsonStringEnumConverter() },
        // Provider bodies are JSON, never HTML: keep quotes inside promptJson readable (\" not \u0022).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Host of the result URLs unless <see cref="SimulatorOptions.CdnBaseUrl"/> is set; <c>.invalid</c> never resolves,
    /// so nothing downloads them by accident.
    /// </summary>
    public const string CdnBase = "https://cdn.simulator.invalid";

    private const string BodyItemKey = "VideoCallbacks.Simulator.Body";

    /// <summary>Reads (and buffers) the body, records the request, and keeps the text for the handler.</summary>
    public static async Task RecordAsync(HttpContext context, string provider, SimulatorState state, TimeProvider time)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, leaveOpen: true))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        context.Items[BodyItemKey] = body;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = values.ToString();
        }

        var path = string.Concat(request.PathBase.Value, request.Path.Value, request.QueryString.Value);
        state.Record(new RecordedRequest(provider, request.Method, path, headers, body, time.GetUtcNow()));
    }

    public static string Body(HttpContext context) => context.Items[BodyItemKey] as string ?? "";

    /// <summary>The body as a JSON object, or null when it is not one.</summary>
    public static JsonObject? ParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Kind of a property; <see cref="JsonValueKind.Undefined"/> when absent.</summary>
    public static JsonValueKind Kind(JsonObject body, string name) =>
        body.TryGetPropertyValue(name, out var node)
            ? node?.GetValueKind() ?? JsonValueKind.Null
            : JsonValueKind.Undefined;

    /// <summary>True when absent or JSON null.</summary>
    public static bool IsMissing(JsonObject body, string name) => Kind(body, name) is JsonValueKind.Undefined or JsonValueKind.Null;

    /// <summary>A string property's value; null when absent, null or not a string.</summary>
    public static string? String(JsonObject body, string name) =>
        Kind(body, name) == JsonValueKind.String ? body[name]!.GetValue<string>() : null;

    /// <summary>An integral number property (no strings, no fractions).</summary>
    public static bool TryInteger(JsonObject body, string name, out int value)
    {
        value = 0;
        return Kind(body, name) == JsonValueKind.Number && body[name]!.AsValue().TryGetValue(out value);
    }

    public static bool IsAbsoluteHttpUrl(string? value, bool requireHttps = false) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (!requireHttps && uri.Scheme == Uri.UriSchemeHttp));

    public static IResult Json<T>(T value, int statusCode = StatusCodes.Status200OK) =>
        TypedResults.Json(value, JsonOptions, statusCode: statusCode);

    /// <summary>Holds the answer for <c>~slow=&lt;ms&gt;</c>.</summary>
    public static Task DelayAsync(Directives directives, TimeProvider time, CancellationToken cancellationToken)
    {
        var milliseconds = directives.GetInt("slow", 0);
        return milliseconds > 0
            ? Task.Delay(TimeSpan.FromMilliseconds(milliseconds), time, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>Applies <c>~retryafter=&lt;s&gt;</c> to a refusal.</summary>
    public static void ApplyRetryAfter(HttpContext context, Directives directives)
    {
        var seconds = directives.GetInt("retryafter", -1);
        if (seconds >= 0)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary><c>~abort</c>: drop the connection without an answer, like a crashed gateway.</summary>
    public static EmptyHttpResult Abort(HttpContext context)
    {
        context.Abort();
        return TypedResults.Empty;
    }

    /// <summary>
    /// Result URL <paramref name="n"/> of a task, with its <c>~cdn-*</c> directives in the query string so the CDN
    /// knows them from the request alone.
    /// </summary>
    public static string ResultUrl(SimulatorOptions options, string taskId, int n, Directives directives)
    {
        var cdnBase = options.CdnBaseUrl?.Invoke().TrimEnd('/') ?? CdnBase;
        return string.Create(CultureInfo.InvariantCulture,
            $"{cdnBase}/{Uri.EscapeDataString(taskId)}/{n}.mp4{CdnSimulator.Query(directives)}");
    }

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>
/// One <see cref="OutgoingEvent"/> in both REST shapes, serialized once so sizes are measured on the bytes
/// that are actually sent.
/// <list type="bullet">
/// <item>Single send: body = CloudEvent JSON, <c>Content-Type</c>, <c>BrokerProperties</c> header, one header per custom property.</item>
/// <item>Batch entry: <c>{"Body":"..","BrokerProperties":{..},"UserProperties":{..}}</c>.</item>
/// </list>
/// </summary>
internal sealed class ServiceBusWireMessage
{
    public const string CloudEventsContentType = "application/cloudevents+json; charset=utf-8";
    public const string BrokerPropertiesHeader = "BrokerProperties";

    // Wire names of the batch format (a const, not nameof: they name JSON fields, not our members).
    private const string BodyProperty = "Body";

    /// <summary>MessageId and SessionId are limited to 128 characters by the broker.</summary>
    public const int MaxIdLength = 128;

    // The header must be plain ASCII: the default encoder escapes everything else as \uXXXX.
    private static readonly JsonWriterOptions HeaderJson = new() { Encoder = JavaScriptEncoder.Default };

    // The batch body is UTF-8 JSON (RFC 8259); relaxed escaping keeps a CloudEvent's '<', '&', '+' and
    // non-ASCII text from growing six-fold in the request and in the size accounting.
    private static readonly JsonWriterOptions BodyJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private ServiceBusWireMessage(OutgoingEvent source, int index, byte[] body, string brokerProperties, KeyValuePair<string, string>[] customProperties, byte[] batchEntry, string? invalid)
    {
        Source = source;
        Index = index;
        Body = body;
        BrokerPropertiesJson = brokerProperties;
        CustomProperties = customProperties;
        BatchEntry = batchEntry;
        Invalid = invalid;
        MessageBytes = body.Length + Encoding.UTF8.GetByteCount(brokerProperties)
            + customProperties.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
    }

    public OutgoingEvent Source { get; }

    /// <summary>Position in the publish call; results go back in this order.</summary>
    public int Index { get; }

    public byte[] Body { get; }

    public string BrokerPropertiesJson { get; }

    public IReadOnlyList<KeyValuePair<string, string>> CustomProperties { get; }

    /// <summary>This message as one element of a batch array (UTF-8 JSON).</summary>
    public byte[] BatchEntry { get; }

    /// <summary>Body + broker properties + custom properties: what the broker counts against its message limit.</summary>
    public int MessageBytes { get; }

    /// <summary>Why the broker could never accept this message (null when fine).</summary>
    public string? Invalid { get; }

    public static ServiceBusWireMessage Create(OutgoingEvent e, int index)
    {
        ArgumentNullException.ThrowIfNull(e);
        var body = Encoding.UTF8.GetBytes(e.CloudEventJson ?? string.Empty);
        KeyValuePair<string, string>[] custom =
        [
            new("type", e.Type ?? string.Empty),
            new("provider", e.Provider ?? string.Empty),
            new("status", e.Status ?? string.Empty),
        ];

        var brokerProperties = Encoding.UTF8.GetString(Serialize(HeaderJson, w => WriteBrokerProperties(w, e, includeContentType: false)));
        var entry = Serialize(BodyJson, w =>
        {
            w.WriteStartObject();
            w.WriteString(BodyProperty, e.CloudEventJson);
            w.WritePropertyName("BrokerProperties");
            // ContentType is not among the broker properties the REST docs accept (they list it only as the
            // HTTP Content-Type of a single send, and unknown ones are ignored). Sent anyway: harmless if
            // ignored, right if honoured. SendMode=Individual guarantees it.
            WriteBrokerProperties(w, e, includeContentType: true);
            w.WriteStartObject("UserProperties");
            foreach (var (name, value) in custom)
            {
                w.WriteString(name, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });

        return new ServiceBusWireMessage(e, index, body, brokerProperties, custom, entry, Check(e, custom));
    }

    private static void WriteBrokerProperties(Utf8JsonWriter w, OutgoingEvent e, bool includeContentType)
    {
        w.WriteStartObject();
        w.WriteString("MessageId", e.EventId);
        if (e.CorrelationId is not null)
        {
            w.WriteString("CorrelationId", e.CorrelationId);
        }

        w.WriteString("Label", e.Type);
        w.WriteString("SessionId", e.JobId);
        if (includeContentType)
        {
            w.WriteString("ContentType", CloudEventsContentType);
        }

        w.WriteEndObject();
    }

    private static byte[] Serialize(JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string? Check(OutgoingEvent e, KeyValuePair<string, string>[] custom)
    {
        if (string.IsNullOrEmpty(e.EventId) || e.EventId.Length > MaxIdLength)
        {
            return $"event id must be 1 to {MaxIdLength} characters (it is the MessageId)";
        }

        if (string.IsNullOrEmpty(e.JobId) || e.JobId.Length > MaxIdLength)
        {
            return $"job id must be 1 to {MaxIdLength} characters (it is the SessionId)";
        }

        foreach (var (name, value) in custom)
        {
            // Custom properties travel as HTTP headers in a single send: visible ASCII only.
            if (value.Length == 0 || value.Any(c => c is < '!' or > '~'))
            {
                return $"custom property '{name}' must be non-empty visible ASCII to travel as an HTTP header";
            }
        }

        return null;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoCallbacks.Cli;

internal static class CliJson
{
    /// <summary>Web defaults (camelCase, case-insensitive reads), nulls omitted when writing, times sent in UTC.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new UtcTimestampConverter() },
    };

    /// <summary>Times the CLI sends read the same in a request log as on the command line: <c>2025-01-31T00:00:00Z</c>.</summary>
    private sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(AdminClient.FormatTimestamp(value));
    }
}

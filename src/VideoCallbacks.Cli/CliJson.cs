using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoCallbacks.Cli;

internal static class CliJson
{
    /// <summary>Web defaults (camelCase, case-insensitive reads), nulls omitted when writing.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

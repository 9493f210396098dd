using System.Globalization;
using System.Text.Json;

namespace VideoCallbacks.Cli;

/// <summary>Small formatting helpers for the human-readable output.</summary>
internal static class Fmt
{
    public static string? Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Count(long count, string singular, string? plural = null) =>
        $"{Number(count)} {(count == 1 ? singular : plural ?? singular + "s")}";

    public static string? Truncate(string? text, int max)
    {
        if (text is null)
        {
            return null;
        }

        var line = AdminClient.OneLine(text);
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    public static string Value(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString() ?? "" : element.GetRawText();
}

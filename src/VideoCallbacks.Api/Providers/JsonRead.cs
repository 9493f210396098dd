using System.Globalization;
using System.Text.Json;

namespace VideoCallbacks.Api.Providers;

/// <summary>Forgiving readers for provider documents: providers disagree with their own docs about types.</summary>
internal static class JsonRead
{
    public static JsonElement? Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement? Path(this JsonElement e, params string[] names)
    {
        JsonElement? current = e;
        foreach (var n in names)
        {
            current = current?.Prop(n);
            if (current is null) return null;
        }
        return current;
    }

    /// <summary>A string, or a number written as text.</summary>
    public static string? Str(this JsonElement? e) => e?.ValueKind switch
    {
        // An escaped \u0000 decodes to a character PostgreSQL cannot store (see StorableText).
        JsonValueKind.String => Storage.StorableText.Clean(e.Value.GetString()!),
        JsonValueKind.Number => e.Value.GetRawText(),
        _ => null,
    };

    public static string? FirstStr(this JsonElement e, params string[][] paths)
    {
        foreach (var p in paths)
        {
            var s = e.Path(p).Str();
            if (!string.IsNullOrWhiteSpace(s)) return s;
        }
        return null;
    }

    /// <summary>An integer given as a number or a numeric string ("40", 40, 40.0).</summary>
    public static int? Int(this JsonElement? e)
    {
        var s = e.Str();
        return s is not null && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsNaN(d)
            ? (int)Math.Clamp(Math.Round(d), int.MinValue, int.MaxValue)
            : null;
    }

    /// <summary>A list of URLs given as strings or as objects carrying one of the named fields.</summary>
    public static List<string> Urls(this JsonElement? e, params string[] objectFields)
    {
        var urls = new List<string>();
        if (e is not { ValueKind: JsonValueKind.Array } array) return urls;
        foreach (var item in array.EnumerateArray())
        {
            var url = item.ValueKind == JsonValueKind.String ? Storage.StorableText.Clean(item.GetString()!) : objectFields.Select(f => item.Prop(f).Str()).FirstOrDefault(s => s is not null);
            if (!string.IsNullOrWhiteSpace(url)) urls.Add(url);
        }
        return urls;
    }

    /// <summary>An error given as a string or as an object with a message.</summary>
    public static string? ErrorText(this JsonElement? e) => e?.ValueKind switch
    {
        JsonValueKind.String => Storage.StorableText.Clean(e.Value.GetString()!),
        JsonValueKind.Object => e.Value.FirstStr(["message"], ["msg"], ["error"], ["detail"]) ?? e.Value.GetRawText(),
        _ => null,
    };

    public static bool TryParse(string body, out JsonElement root)
    {
        try
        {
            root = JsonElement.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            if (root.ValueKind != JsonValueKind.Object) return false;
            // Only an escaped surrogate (\uD800-\uDFFF) can be unreadable; the walk is skipped for every other document.
            if (body.Contains("\\ud", StringComparison.OrdinalIgnoreCase)) EnsureReadable(root);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            root = default;
            return false;
        }
    }

    /// <summary>
    /// An escaped lone surrogate ("\ud800") parses, but reading it (or a property name holding it, even by looking a
    /// property up) throws: the document is refused here, once, rather than as a 500 wherever it is first read.
    /// </summary>
    private static void EnsureReadable(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    _ = p.Name;
                    EnsureReadable(p.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) EnsureReadable(item);
                break;
            case JsonValueKind.String:
                _ = e.GetString();
                break;
        }
    }
}

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VideoCallbacks.Cli.Commands;

/// <summary>Fetches one page or every page of a cursor-paged list and prints it as a table or as JSON.</summary>
internal static class ListOutput
{
    public static async Task<int> RunAsync<T>(
        CommandContext context,
        Func<string?, CancellationToken, Task<ApiResponse<Page<T>>>> fetchPage,
        string? cursor,
        bool all,
        Func<IReadOnlyList<T>, TableWriter> toTable,
        string pluralNoun,
        CancellationToken cancellationToken)
    {
        var items = new List<T>();
        var rawPages = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? next;
        while (true)
        {
            var page = await fetchPage(cursor, cancellationToken);
            items.AddRange(page.Value.Items ?? []);
            rawPages.Add(page.RawJson);
            next = page.Value.NextCursor;
            if (!all || string.IsNullOrEmpty(next))
            {
                break;
            }

            if (!seen.Add(next))
            {
                throw new ApiException($"the service returned cursor '{next}' twice; stopping to avoid an endless listing");
            }

            cursor = next;
        }

        if (context.Json)
        {
            context.WriteRaw(rawPages.Count == 1 ? rawPages[0] : MergePages(rawPages));
            return ExitCodes.Success;
        }

        if (items.Count == 0)
        {
            await context.Out.WriteLineAsync($"No {pluralNoun}.");
        }
        else
        {
            toTable(items).WriteTo(context.Out);
        }

        if (!all && !string.IsNullOrEmpty(next))
        {
            await context.Out.WriteLineAsync($"More {pluralNoun}: --cursor {next} (or --all)");
        }

        return ExitCodes.Success;
    }

    /// <summary>Every page's items, verbatim, in one document: <c>{"items":[...],"nextCursor":null}</c>.</summary>
    private static string MergePages(List<string> rawPages)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("items");
            writer.WriteStartArray();
            foreach (var raw in rawPages)
            {
                using var document = JsonDocument.Parse(raw);
                if (TryGetItems(document.RootElement, out var pageItems))
                {
                    foreach (var item in pageItems.EnumerateArray())
                    {
                        item.WriteTo(writer);
                    }
                }
            }

            writer.WriteEndArray();
            writer.WriteNull("nextCursor");
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static bool TryGetItems(JsonElement root, out JsonElement items)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("items") || string.Equals(property.Name, "items", StringComparison.OrdinalIgnoreCase))
                {
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        items = property.Value;
                        return true;
                    }
                }
            }
        }

        items = default;
        return false;
    }
}

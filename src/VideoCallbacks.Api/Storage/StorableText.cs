namespace VideoCallbacks.Api.Storage;

/// <summary>
/// PostgreSQL text cannot hold U+0000 (SQLite can): one such character fails the whole statement. Text from outside
/// is therefore refused (client input, a 400) or has it replaced by U+FFFD (provider documents), the way invalid
/// UTF-8 already is when the bytes are decoded, so both engines store and read the same thing.
/// </summary>
public static class StorableText
{
    public const char Nul = '\0';

    public static bool HasNul(string? text) => text is not null && text.Contains(Nul, StringComparison.Ordinal);

    public static string Clean(string text) => text.Replace(Nul, '\uFFFD');
}

using System.CommandLine;

namespace VideoCallbacks.Cli;

/// <summary>Options every command accepts (declared on the root, recursive).</summary>
internal sealed class GlobalOptions
{
    public const string UrlVariable = "VIDEOCALLBACKS_URL";
    public const string AdminKeyVariable = "VIDEOCALLBACKS_ADMIN_KEY";
    public const string DefaultUrl = "http://localhost:5000";

    // No DefaultValueFactory on purpose: help would print the resolved value, and the admin key must never be echoed.
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"Base URL of the VideoCallbacks service [env {UrlVariable}, default {DefaultUrl}]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> AdminKey { get; } = new("--admin-key")
    {
        Description = $"Admin API key, sent as header X-Api-Key [env {AdminKeyVariable}]",
        HelpName = "key",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the raw JSON the API answered (for scripts) instead of tables",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Add(Url);
        root.Add(AdminKey);
        root.Add(Json);
    }
}

namespace VideoCallbacks.Api.Providers;

/// <summary>The registered providers by name. Everything outside <c>Providers/</c> asks this; nothing there names a provider.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, IProvider> _byName = new(StringComparer.Ordinal);

    public ProviderRegistry(IEnumerable<IProvider> providers)
    {
        foreach (var provider in providers)
        {
            if (!_byName.TryAdd(provider.Name, provider))
            {
                throw new InvalidOperationException($"Two providers are registered as '{provider.Name}'; each name must be registered once.");
            }
        }
        All = [.. _byName.Values];
        Names = [.. _byName.Keys];
        NamesText = string.Join(", ", Names);
    }

    public IReadOnlyList<IProvider> All { get; }

    public IReadOnlyList<string> Names { get; }

    /// <summary>"kie, apiframe, nanogpt": for messages that say what to send instead.</summary>
    public string NamesText { get; }

    public bool IsKnown(string? name) => name is not null && _byName.ContainsKey(name);

    public IProvider Get(string name) =>
        _byName.TryGetValue(name, out var provider) ? provider : throw new ArgumentOutOfRangeException(nameof(name), name, "unknown provider");

    /// <summary>The callback scheme of a provider that calls back; null for an unknown provider or one that is polled.</summary>
    public ICallbackScheme? CallbacksOf(string name) => _byName.TryGetValue(name, out var provider) ? provider.Callbacks : null;
}

using Azure.Core;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>Supplies the <c>Authorization</c> header value for Service Bus requests, cached until near expiry.</summary>
public interface IServiceBusTokenProvider
{
    /// <summary>"SharedAccessSignature sr=..." or "Bearer ...". Never log the result.</summary>
    ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken);

    /// <summary>Drops the cached token (after a 401) so the next call gets a fresh one.</summary>
    void Invalidate();
}

/// <summary>SAS tokens minted from a connection string's key, renewed when less than the renewal margin is left.</summary>
public sealed class SasTokenProvider : IServiceBusTokenProvider
{
    private readonly string _resourceUri;
    private readonly string _keyName;
    private readonly string _key;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private readonly TimeSpan _renewalMargin;
    private readonly Lock _gate = new();
    private (string Token, DateTimeOffset ExpiresAt)? _cached;

    public SasTokenProvider(ServiceBusConnectionString connection, string resourceUri, TimeProvider time, TimeSpan lifetime, TimeSpan renewalMargin)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(time);
        if (renewalMargin >= lifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(renewalMargin), "The renewal margin must be shorter than the token lifetime.");
        }

        _resourceUri = resourceUri;
        _keyName = connection.KeyName;
        _key = connection.Key;
        _time = time;
        _lifetime = lifetime;
        _renewalMargin = renewalMargin;
    }

    /// <summary>When the cached token expires (null before the first call). For diagnostics and tests.</summary>
    public DateTimeOffset? CachedExpiresAt
    {
        get
        {
            lock (_gate)
            {
                return _cached?.ExpiresAt;
            }
        }
    }

    public ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_cached is { } c && c.ExpiresAt - now > _renewalMargin)
            {
                return ValueTask.FromResult(c.Token);
            }

            // se is whole seconds; truncate here so CachedExpiresAt is exactly what the token says.
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds((now + _lifetime).ToUnixTimeSeconds());
            var token = SharedAccessSignature.Create(_resourceUri, _keyName, _key, expiresAt);
            _cached = (token, expiresAt);
            return ValueTask.FromResult(token);
        }
    }

    public void Invalidate()
    {
        lock (_gate)
        {
            _cached = null;
        }
    }
}

/// <summary>Entra ID bearer tokens from a <see cref="TokenCredential"/>, cached until near expiry.</summary>
public sealed class EntraIdTokenProvider : IServiceBusTokenProvider, IDisposable
{
    public const string Scope = "https://servicebus.azure.net/.default";

    private readonly TokenCredential _credential;
    private readonly TimeProvider _time;
    private readonly TimeSpan _renewalMargin;
    // One refresh at a time: a burst of sends must not become a burst of calls to the identity endpoint.
    private readonly SemaphoreSlim _refresh = new(1, 1);
    // A reference so it can be read and swapped atomically without holding the semaphore.
    private Cached? _cached;

    public EntraIdTokenProvider(TokenCredential credential, TimeProvider time, TimeSpan renewalMargin)
    {
        _credential = credential ?? throw new ArgumentNullException(nameof(credential));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _renewalMargin = renewalMargin;
    }

    public async ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken)
    {
        if (Fresh(Volatile.Read(ref _cached)) is { } ready)
        {
            return "Bearer " + ready.Token;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var cached = _cached;
            if (Fresh(cached) is { } refreshedMeanwhile)
            {
                return "Bearer " + refreshedMeanwhile.Token;
            }

            try
            {
                var token = await _credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken);
                Volatile.Write(ref _cached, new Cached(token));
                return "Bearer " + token.Token;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && cached is not null && cached.Token.ExpiresOn > _time.GetUtcNow())
            {
                // The identity endpoint hiccupped but the old token still works: use it, try again next time.
                return "Bearer " + cached.Token.Token;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Invalidate() => Volatile.Write(ref _cached, null);

    public void Dispose() => _refresh.Dispose();

    private AccessToken? Fresh(Cached? cached)
    {
        if (cached is null)
        {
            return null;
        }

        var t = cached.Token;
        var now = _time.GetUtcNow();
        var renewAt = t.ExpiresOn - _renewalMargin;
        if (t.RefreshOn is { } refreshOn && refreshOn < renewAt)
        {
            renewAt = refreshOn;
        }

        return now < renewAt ? t : null;
    }

    private sealed record Cached(AccessToken Token);
}

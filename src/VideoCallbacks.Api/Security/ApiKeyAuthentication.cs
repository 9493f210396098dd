using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Security;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string ClientPolicy = "client";
    public const string AdminPolicy = "admin";
    public const string KeyIdClaim = "key_id";
    /// <summary>The tenant a client key belongs to; admin keys have none (they see every client).</summary>
    public const string ClientClaim = "client";
}

/// <summary>Who presented a key: its public id, its client (null for an admin key) and whether it is an admin key.</summary>
public sealed record ApiKeyEntry(string Id, string? Client, bool Admin);

/// <summary>The configured keys, kept only as SHA-256 hashes in memory.</summary>
public sealed class ApiKeyRegistry
{
    private readonly (byte[] Hash, ApiKeyEntry Entry)[] _keys;

    public ApiKeyRegistry(IOptions<AuthOptions> options)
    {
        _keys = options.Value.ClientKeys().Select(c => Entry(c.Key, c.Client, admin: false))
            .Concat(options.Value.AdminApiKeys.Select(k => Entry(k, client: null, admin: true)))
            .ToArray();
        Clients = options.Value.ClientKeys().Select(c => c.Client).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The configured client names, for filters and validation messages.</summary>
    public IReadOnlyList<string> Clients { get; }

    /// <summary>A key's public name: a hash prefix, safe to log and audit.</summary>
    public static string IdOf(string key) => "key_" + Secrets.Hash(key)[..12];

    public ApiKeyEntry? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKeyEntry? found = null;
        // Check every key so timing does not reveal which one (or whether any) matched.
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash) && found is null)
            {
                found = key.Entry;
            }
        }
        return found;
    }

    private static (byte[], ApiKeyEntry) Entry(string key, string? client, bool admin) =>
        (SHA256.HashData(Encoding.UTF8.GetBytes(key)), new ApiKeyEntry(IdOf(key), client, admin));
}

public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry registry,
    FailedAuthThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyDefaults.Header, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var presented = values[0]!;
        // The key is checked before the throttle is consulted: a correct key is never refused because other callers
        // (behind the same proxy, say) failed. Only failures are throttled (in the challenge below); keys are 24+
        // random characters, so answering a throttled address's right guess costs nothing.
        if (presented.Length > 512 || registry.Find(presented) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }
        var claims = new List<Claim> { new(ApiKeyDefaults.KeyIdClaim, key.Id), new(ClaimTypes.Name, key.Id), new(ClaimTypes.Role, "client") };
        if (key.Client is not null) claims.Add(new Claim(ApiKeyDefaults.ClientClaim, key.Client));
        if (key.Admin) claims.Add(new Claim(ClaimTypes.Role, "admin"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyDefaults.Scheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, ApiKeyDefaults.Scheme)));
    }

    /// <summary>The connection's address, or the client's as a configured proxy reported it (ForwardedHeaders:*).</summary>
    private string SourceAddress => Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var why = Request.Headers.ContainsKey(ApiKeyDefaults.Header) ? "unknown API key" : "no API key";
        if (!throttle.TryRecordFailure(SourceAddress, why, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Results.Problem(statusCode: 429, title: "Too many failed authentication attempts.",
                detail: $"Too many requests from this address had a missing or wrong {ApiKeyDefaults.Header}; retry after {seconds} s with a valid key.")
                .ExecuteAsync(Context);
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: $"Send a valid API key in the {ApiKeyDefaults.Header} header.").ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(statusCode: 403, title: "Forbidden",
            detail: "This API key may not use this endpoint; admin endpoints need an admin key.").ExecuteAsync(Context);
    }
}

public static class ApiKeyAuthenticationExtensions
{
    public static string KeyId(this ClaimsPrincipal user) => user.FindFirstValue(ApiKeyDefaults.KeyIdClaim) ?? "anonymous";

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole("admin");

    /// <summary>
    /// The tenant whose data this caller may read: its client, or null for an admin key (every client). What an admin
    /// key submits belongs to the client <c>default</c> (<see cref="SubmittingClient"/>).
    /// </summary>
    public static string? VisibleClient(this ClaimsPrincipal user) =>
        user.IsAdmin() ? null : user.FindFirstValue(ApiKeyDefaults.ClientClaim) ?? AuthOptions.DefaultClient;

    /// <summary>The client a submission belongs to.</summary>
    public static string SubmittingClient(this ClaimsPrincipal user) => user.FindFirstValue(ApiKeyDefaults.ClientClaim) ?? AuthOptions.DefaultClient;

    /// <summary>
    /// Where an idempotency key is remembered: per named client (so a retry survives a key rotation), per key for the
    /// keys of <c>Auth:ApiKeys</c> (as before named clients existed: each of those keys has its own keys).
    /// </summary>
    public static string IdempotencyScope(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyDefaults.ClientClaim) is { } client && client != AuthOptions.DefaultClient ? "client:" + client : user.KeyId();

    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddValidatedOptions<AuthOptions>(configuration, AuthOptions.Section)
            .Configure(o => o.MinKeyLength = environment.IsDevelopment() ? 8 : 24);
        services.AddSingleton<ApiKeyRegistry>();
        services.AddSingleton<FailedAuthThrottle>();
        // Each failed request would log two Information lines here (not authenticated, challenged); the
        // throttle logs failures under a budget instead.
        services.AddLogging(b => b
            .AddFilter(typeof(ApiKeyAuthenticationHandler).FullName, LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore.Authorization", LogLevel.Warning));
        services.AddAuthentication(ApiKeyDefaults.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyDefaults.ClientPolicy, p => p.RequireRole("client"))
            .AddPolicy(ApiKeyDefaults.AdminPolicy, p => p.RequireRole("admin"));
        return services;
    }
}

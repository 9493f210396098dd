using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Security;

public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";
    public string[] ApiKeys { get; set; } = [];
    public string[] AdminApiKeys { get; set; } = [];

    /// <summary>Set from the environment, not from configuration: Development accepts short keys.</summary>
    internal int MinKeyLength { get; set; } = 24;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ApiKeys.Length == 0 || AdminApiKeys.Length == 0)
        {
            yield return new ValidationResult(
                "Auth:ApiKeys and Auth:AdminApiKeys must each list at least one key (the service refuses to start without them outside Development).",
                [nameof(ApiKeys)]);
        }
        if (!ApiKeys.Concat(AdminApiKeys).All(k => k.Length >= MinKeyLength))
        {
            yield return new ValidationResult(
                "Auth:ApiKeys / Auth:AdminApiKeys: every key must be at least 24 characters long (8 in Development).", [nameof(ApiKeys)]);
        }
    }
}

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string ClientPolicy = "client";
    public const string AdminPolicy = "admin";
    public const string KeyIdClaim = "key_id";
}

/// <summary>The configured keys, kept only as SHA-256 hashes in memory.</summary>
public sealed class ApiKeyRegistry
{
    private readonly (byte[] Hash, string Id, bool Admin)[] _keys;

    public ApiKeyRegistry(IOptions<AuthOptions> options)
    {
        _keys = options.Value.ApiKeys.Select(k => Entry(k, admin: false))
            .Concat(options.Value.AdminApiKeys.Select(k => Entry(k, admin: true)))
            .ToArray();
    }

    /// <summary>A key's public name: a hash prefix, safe to log and audit.</summary>
    public static string IdOf(string key) => "key_" + Secrets.Hash(key)[..12];

    public (string Id, bool Admin)? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        (string, bool)? found = null;
        // Check every key so timing does not reveal which one (or whether any) matched.
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash) && found is null)
            {
                found = (key.Id, key.Admin);
            }
        }
        return found;
    }

    private static (byte[], string, bool) Entry(string key, bool admin) =>
        (SHA256.HashData(Encoding.UTF8.GetBytes(key)), IdOf(key), admin);
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
        if (throttle.IsThrottled(SourceAddress))
        {
            return Task.FromResult(AuthenticateResult.Fail("Too many failed attempts from this address."));
        }
        if (presented.Length > 512 || registry.Find(presented) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }
        var claims = new List<Claim> { new(ApiKeyDefaults.KeyIdClaim, key.Id), new(ClaimTypes.Name, key.Id), new(ClaimTypes.Role, "client") };
        if (key.Admin) claims.Add(new Claim(ClaimTypes.Role, "admin"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyDefaults.Scheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, ApiKeyDefaults.Scheme)));
    }

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

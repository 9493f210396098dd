using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Dashboard.Pages;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Dashboard;

public static class DashboardDefaults
{
    public const string Scheme = "Dashboard";
    public const string Policy = "dashboard";
    public const string SessionClaim = "dashboard_session";
    public const string CookieName = "vc_dashboard";

    /// <summary>
    /// Stricter than the API docs' page policy: no inline script or style at all (the pages use neither; the charts are
    /// SVG presentation attributes), media from this origin or a storage SAS link, nothing framed.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' https:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
}

/// <summary>
/// The operators' dashboard at <c>/admin</c>: server-rendered Razor components (no build step, no framework script),
/// signed in with an admin key into a cookie session, every form protected by antiforgery, every action audited
/// under the admin key's id like the admin API.
/// </summary>
public static class DashboardEndpoints
{
    public static IServiceCollection AddDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DashboardOptions>(configuration, DashboardOptions.Section);
        services.AddSingleton<DashboardSessions>();
        services.AddSingleton<DashboardQueries>();
        services.AddRazorComponents();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "vc_antiforgery";
            o.Cookie.Path = "/admin";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = "__csrf";
            // SecurityHeaders sends DENY on every response already.
            o.SuppressXFrameOptionsHeader = true;
        });
        services.AddAuthentication().AddCookie(DashboardDefaults.Scheme, o =>
        {
            o.Cookie.Name = DashboardDefaults.CookieName;
            o.Cookie.Path = "/admin";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.SlidingExpiration = true;
            o.LoginPath = "/admin/signin";
            o.AccessDeniedPath = "/admin/signin";
            o.ReturnUrlParameter = "returnUrl";
            o.Events.OnValidatePrincipal = async context =>
            {
                // A signed-out session is refused even with a copy of its cookie.
                var sessions = context.HttpContext.RequestServices.GetRequiredService<DashboardSessions>();
                if (context.Principal?.FindFirstValue(DashboardDefaults.SessionClaim) is not { } id
                    || !await sessions.IsActiveAsync(id, context.HttpContext.RequestAborted))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(DashboardDefaults.Scheme);
                }
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(DashboardDefaults.Scheme)
            .Configure<IOptions<DashboardOptions>>((o, d) => o.ExpireTimeSpan = d.Value.SessionLifetime);
        services.AddAuthorizationBuilder().AddPolicy(DashboardDefaults.Policy, p => p
            .AddAuthenticationSchemes(DashboardDefaults.Scheme)
            .RequireRole("admin"));
        return services;
    }

    public static RouteGroupBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin")
            .ExcludeFromDescription()
            .RequireAuthorization(DashboardDefaults.Policy)
            .AddEndpointFilter(async (context, next) =>
            {
                var headers = context.HttpContext.Response.Headers;
                headers.ContentSecurityPolicy = DashboardDefaults.ContentSecurityPolicy;
                headers.CacheControl = "no-store";
                return await next(context);
            });
        group.MapGet("/", DashboardPages.HomeAsync).AllowAnonymous();
        group.MapGet("/signin", DashboardPages.SignInForm).AllowAnonymous();
        group.MapPost("/signin", SignInAsync).AllowAnonymous().RequireRateLimiting(RateLimits.ClientPolicy);
        group.MapPost("/signout", SignOutAsync).AllowAnonymous();
        group.MapGet("/assets/{name}", DashboardAssets.Serve).AllowAnonymous();
        group.MapGet("/events", DashboardPages.FailedEventsAsync);
        group.MapPost("/events/{eventId}/replay", DashboardActions.ReplayEventAsync);
        group.MapPost("/events/replay", DashboardActions.ReplayFilteredAsync);
        group.MapPost("/events/purge", DashboardActions.PurgeFilteredAsync);
        group.MapGet("/callbacks", DashboardPages.CallbacksAsync);
        group.MapGet("/callbacks/{id:long}", DashboardPages.CallbackAsync);
        group.MapPost("/callbacks/{id:long}/reprocess", DashboardActions.ReprocessAsync);
        group.MapGet("/jobs", DashboardPages.JobsAsync);
        group.MapGet("/jobs/{jobId}/videos/{index:int}", DashboardPages.VideoAsync);
        group.MapGet("/live", DashboardPages.Live);
        group.MapGet("/live/stream", DashboardPages.LiveStreamAsync);
        group.MapGet("/audit", DashboardPages.AuditAsync);
        return group;
    }

    private static async Task<Results<RedirectHttpResult, RazorComponentResult>> SignInAsync(
        HttpContext http, IAntiforgery antiforgery, ApiKeyRegistry keys, FailedAuthThrottle throttle, DashboardSessions sessions, CancellationToken ct)
    {
        if (await DashboardActions.CsrfProblemAsync(http, antiforgery) is { } expired) return SignInPage(http, antiforgery, expired, 400);
        var form = await http.Request.ReadFormAsync(ct);
        var presented = form["apiKey"].FirstOrDefault() ?? "";
        var key = presented.Length is > 0 and <= 512 ? keys.Find(presented) : null;
        if (key is not { Admin: true })
        {
            // Counts against the same failed-auth throttle as the API's keys.
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (!throttle.TryRecordFailure(address, key is null ? "dashboard sign-in with an unknown key" : "dashboard sign-in with a client key", out var retryAfter))
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return SignInPage(http, antiforgery, $"Too many failed sign-ins from this address; try again in {seconds} s.", 429);
            }
            return SignInPage(http, antiforgery, key is null
                ? "That key is not valid. Paste an admin API key (Auth:AdminApiKeys or an admin entry of Auth:Keys)."
                : "That is a client key; the dashboard needs an admin key.", 401);
        }
        var session = await sessions.StartAsync(key.Id, ct);
        var identity = new ClaimsIdentity(
        [
            new Claim(ApiKeyDefaults.KeyIdClaim, key.Id), new Claim(ClaimTypes.Name, key.Id),
            new Claim(ClaimTypes.Role, "client"), new Claim(ClaimTypes.Role, "admin"),
            new Claim(DashboardDefaults.SessionClaim, session),
        ], DashboardDefaults.Scheme);
        await http.SignInAsync(DashboardDefaults.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
        var returnUrl = form["returnUrl"].FirstOrDefault();
        // Only a path on this dashboard: never an open redirect.
        return TypedResults.Redirect(returnUrl is { Length: > 1 } r && r.StartsWith("/admin", StringComparison.Ordinal) && !r.StartsWith("//", StringComparison.Ordinal) ? r : "/admin");
    }

    private static async Task<Results<RedirectHttpResult, RazorComponentResult>> SignOutAsync(
        HttpContext http, IAntiforgery antiforgery, DashboardSessions sessions, CancellationToken ct)
    {
        var result = await http.AuthenticateAsync(DashboardDefaults.Scheme);
        if (result.Succeeded) http.User = result.Principal!;
        if (await DashboardActions.CsrfProblemAsync(http, antiforgery) is { } expired) return SignInPage(http, antiforgery, expired, 400);
        if (http.User.FindFirstValue(DashboardDefaults.SessionClaim) is { } id) await sessions.RevokeAsync(id, ct);
        await http.SignOutAsync(DashboardDefaults.Scheme);
        return TypedResults.Redirect("/admin/signin?signedOut=1");
    }

    internal static RazorComponentResult SignInPage(HttpContext http, IAntiforgery antiforgery, string? message, int status = 200, string? returnUrl = null) =>
        new RazorComponentResult<SignInPage>(new Dictionary<string, object?>
        {
            [nameof(Pages.SignInPage.Csrf)] = antiforgery.GetAndStoreTokens(http).RequestToken,
            [nameof(Pages.SignInPage.Message)] = message,
            [nameof(Pages.SignInPage.ReturnUrl)] = returnUrl,
        })
        { StatusCode = status };
}

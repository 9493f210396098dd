using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Infrastructure;

public sealed class ApiDocsOptions
{
    public const string Section = "ApiDocs";

    /// <summary>
    /// Off by default: the document describes only the public contract (no data, no secrets) and client teams
    /// generate code from it. On: /openapi/v1.json needs a client key and the browser UI is not served.
    /// </summary>
    public bool RequireApiKey { get; set; }
}

/// <summary>The OpenAPI document and its browser UI.</summary>
public static class ApiDocs
{
    public static IServiceCollection AddApiDocs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiDocsOptions>().Bind(configuration.GetSection(ApiDocsOptions.Section)).ValidateOnStart();
        return services.AddOpenApi();
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        var requireKey = app.Configuration.GetValue<bool>($"{ApiDocsOptions.Section}:{nameof(ApiDocsOptions.RequireApiKey)}");
        var document = app.MapOpenApi();
        if (requireKey)
        {
            document.RequireAuthorization(ApiKeyDefaults.ClientPolicy);
            return app;
        }
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "VideoCallbacks v1"));
        return app;
    }
}

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 10: the OpenAPI document is public by default and can be put behind a client key.</summary>
public sealed class ApiDocsTests
{
    [Fact]
    public async Task The_OpenAPI_document_is_served_without_a_key_by_default()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.Anonymous;

        using var response = await anonymous.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("/v1/extensions", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_RequireApiKey_the_OpenAPI_document_needs_a_client_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["ApiDocs:RequireApiKey"] = "true");
        var anonymous = app.Driver.Anonymous;
        var client = app.Driver.Http;

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);
    }
}

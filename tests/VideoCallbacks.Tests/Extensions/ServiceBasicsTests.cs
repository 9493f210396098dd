using System.Net;
using VideoCallbacks.Tests.Infrastructure;

namespace VideoCallbacks.Tests.Extensions;

public sealed class ServiceBasicsTests
{
    [Fact]
    public async Task Health_and_readiness_answer_without_a_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var anonymous = app.Client(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.JsonAsync();
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("storeReachable").GetBoolean());
    }
}

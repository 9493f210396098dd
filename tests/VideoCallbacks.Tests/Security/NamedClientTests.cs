namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 18, defect 4: named clients are tenants; another client's job is 404 and its events are never shown.</summary>
public sealed class NamedClientTests
{
    private const string AcmeKey = "acme-key-0000000000000000001";
    private const string AcmeRotatedKey = "acme-key-0000000000000000002";
    private const string GlobexKey = "globex-key-00000000000000001";

    private static void TwoClients(Dictionary<string, string?> s)
    {
        s["Auth:Clients:acme:Keys:0"] = AcmeKey;
        s["Auth:Clients:acme:Keys:1"] = AcmeRotatedKey;
        s["Auth:Clients:globex:Keys:0"] = GlobexKey;
    }

    [Theory, BothDatabases]
    public async Task A_client_reads_only_its_own_jobs_and_events_and_an_admin_key_reads_every_client(Db db)
    {
        await using var app = await TestApp.StartAsync(db, TwoClients);
        var acme = app.Driver.As(AcmeKey);
        var acmeRotated = app.Driver.As(AcmeRotatedKey);
        var globex = app.Driver.As(GlobexKey);

        var acmeJob = (await acme.SubmitAsync(Kie(sourceTaskId: "tenant-acme~never", correlationId: "acme-order"))).JobId();
        var globexJob = (await globex.SubmitAsync(Kie(sourceTaskId: "tenant-globex~never"))).JobId();
        var defaultJob = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "tenant-default~never"))).JobId();

        // Another client's job does not exist for the caller (404, not 403); a client's other key reads it.
        using (var response = await globex.GetAsync($"/v1/extensions/{acmeJob}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        }
        using (var response = await app.Driver.GetAsync($"/v1/extensions/{acmeJob}")) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("acme-order", (await acmeRotated.JobAsync(acmeJob)).GetProperty("correlationId").GetString());

        // Each feed holds its own client's events only.
        Assert.Equal([acmeJob], (await acme.FeedAsync()).Select(e => e.Subject()).Distinct());
        Assert.Equal([globexJob], (await globex.FeedAsync()).Select(e => e.Subject()).Distinct());
        Assert.Equal([defaultJob], (await app.Driver.FeedAsync()).Select(e => e.Subject()).Distinct());

        // An admin key sees every client, and can filter by one.
        var admin = app.Driver.As(TestApp.AdminKey);
        Assert.Equal([acmeJob, globexJob, defaultJob], (await admin.FeedAsync()).Select(e => e.Subject()).Distinct());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/v1/extensions/{acmeJob}")).StatusCode);
        var acmeEvents = await app.Driver.AdminEventsAsync("client=acme");
        Assert.Equal([acmeJob], acmeEvents.Select(e => e.JobId).Distinct());
        Assert.All(acmeEvents, e => Assert.Equal("acme", e.Client));
        using var unknown = await app.Driver.Admin.GetAsync("/v1/admin/events?client=initech");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("acme, default, globex", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory, BothDatabases]
    public async Task A_clients_event_stream_never_carries_another_clients_events(Db db)
    {
        await using var app = await TestApp.StartAsync(db, TwoClients);
        var acme = app.Driver.As(AcmeKey);
        var globex = app.Driver.As(GlobexKey);
        var globexFirst = (await globex.SubmitAsync(Kie(sourceTaskId: "tenant-stream-0~never"))).JobId();

        var reading = Sse.ReadAsync(globex, got => got.Any(e => e.Json().Subject() != globexFirst));
        var acmeJob = (await acme.SubmitAsync(Kie(sourceTaskId: "tenant-stream-1~never"))).JobId();
        var globexSecond = (await globex.SubmitAsync(Kie(sourceTaskId: "tenant-stream-2~never"))).JobId();
        var streamed = await reading;

        Assert.Equal([globexFirst, globexSecond], streamed.Select(e => e.Json().Subject()).Distinct());
        Assert.DoesNotContain(streamed, e => e.Json().Subject() == acmeJob);
    }

    [Theory, BothDatabases]
    public async Task An_idempotency_key_is_scoped_to_the_client_and_survives_a_key_rotation(Db db)
    {
        await using var app = await TestApp.StartAsync(db, TwoClients);
        var acme = app.Driver.As(AcmeKey);
        var acmeRotated = app.Driver.As(AcmeRotatedKey);
        var globex = app.Driver.As(GlobexKey);
        var body = Kie(sourceTaskId: "tenant-idem~never");

        var first = await acme.SubmitAsync(body, idempotencyKey: "order-1");
        var retriedWithNewKey = await acmeRotated.SubmitAsync(body, idempotencyKey: "order-1");
        var otherClient = await globex.SubmitAsync(body, idempotencyKey: "order-1");

        Assert.Equal(first.JobId(), retriedWithNewKey.JobId());
        Assert.NotEqual(first.JobId(), otherClient.JobId());
        Assert.Equal(2, app.Received(KieSubmitPath).Count);
    }

    [Theory, BothDatabases]
    public async Task Service_Bus_messages_carry_the_client_so_each_subscription_can_filter_on_it(Db db)
    {
        await using var bus = await BusApp.StartAsync(db, TwoClients);
        var acme = bus.App.Driver.As(AcmeKey);
        var acmeJob = (await acme.SubmitAsync(Kie(sourceTaskId: "tenant-bus-0~never"))).JobId();
        var defaultJob = (await bus.Api.SubmitAsync(Kie(sourceTaskId: "tenant-bus-1~never"))).JobId();

        await Wait.UntilAsync(() => Task.FromResult(bus.Broker.Messages.Count), n => n >= 2, "both submitted events on the topic");

        Assert.Equal("acme", Assert.Single(bus.Broker.Messages, m => m.MessageId == $"{acmeJob}:submitted").Property("client"));
        Assert.Equal("default", Assert.Single(bus.Broker.Messages, m => m.MessageId == $"{defaultJob}:submitted").Property("client"));
    }

    [Theory]
    [InlineData("Auth:Clients:acme:Keys:0", TestKeys.Client, "Auth:ApiKeys")]
    [InlineData("Auth:Clients:acme:Keys:0", TestKeys.Admin, "Auth:AdminApiKeys")]
    [InlineData("Auth:Clients:Acme Corp:Keys:0", "acme-key-0000000000000000001", "Auth:Clients:Acme Corp")]
    public async Task Start_up_refuses_a_key_listed_twice_or_a_bad_client_name(string key, string value, string named)
    {
        var error = await TestApp.StartFailureAsync(Db.Sqlite, s => s[key] = value);

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
        // The message names where the key is listed, never the key itself.
        Assert.DoesNotContain(value, error.Message.Replace(named, "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}

using Azure.Core;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

public sealed class EntraIdTests
{
    [Fact]
    public async Task Namespace_without_connection_string_sends_the_credentials_bearer_token()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        server.AcceptBearerToken("entra-token-1");
        var credential = new FakeTokenCredential(TimeProvider.System);
        await using var host = Host(server, credential);

        var first = await host.Publisher.PublishAsync(TestEvents.Many(3), CancellationToken.None);
        var second = await host.Publisher.PublishAsync([TestEvents.Create("job-9", 9)], CancellationToken.None);

        Assert.All(first.Concat(second), r => Assert.True(r.Published, r.Error));
        Assert.All(server.Requests, r => Assert.Equal("Bearer entra-token-1", r.Authorization));
        Assert.Equal(1, credential.Calls);
        Assert.Equal([EntraIdTokenProvider.Scope], credential.LastScopes);
    }

    [Fact]
    public async Task Bearer_token_is_renewed_before_it_expires()
    {
        var clock = new ManualTimeProvider();
        await using var server = await FakeServiceBusServer.StartAsync(o => o.TimeProvider = clock);
        server.AcceptBearerToken("entra-token-1");
        server.AcceptBearerToken("entra-token-2");
        var credential = new FakeTokenCredential(clock);
        await using var host = Host(server, credential, clock);

        await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1)], CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(50));
        await host.Publisher.PublishAsync([TestEvents.Create("job-1", 2)], CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(6));
        await host.Publisher.PublishAsync([TestEvents.Create("job-1", 3)], CancellationToken.None);

        Assert.Equal(["Bearer entra-token-1", "Bearer entra-token-1", "Bearer entra-token-2"], server.Requests.Select(r => r.Authorization));
        Assert.Equal(3, server.Messages.Count);
    }

    [Fact]
    public async Task Credential_failure_is_a_configuration_failure_not_an_exception()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        var credential = new FakeTokenCredential(TimeProvider.System) { Fail = true };
        await using var host = Host(server, credential);

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.Contains("could not get a token", result.Error, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Rejected_bearer_token_is_a_configuration_failure()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = Host(server, new FakeTokenCredential(TimeProvider.System));

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.Equal(401, Assert.Single(server.Requests).StatusCode);
    }

    private static PublisherHost Host(FakeServiceBusServer server, TokenCredential credential, TimeProvider? time = null) =>
        PublisherHost.Create(
            new Dictionary<string, string?> { ["Bus:ServiceBus:FullyQualifiedNamespace"] = server.BaseAddress.ToString() },
            credential,
            time);

    /// <summary>Hands out entra-token-1, entra-token-2, ... each valid for an hour on <paramref name="clock"/>.</summary>
    private sealed class FakeTokenCredential(TimeProvider clock) : TokenCredential
    {
        private int _calls;

        public bool Fail { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public string[] LastScopes { get; private set; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _calls);
            LastScopes = requestContext.Scopes;
            if (Fail)
            {
                throw new InvalidOperationException("No credential is available in this environment.\nMore lines of diagnostics.");
            }

            return ValueTask.FromResult(new AccessToken($"entra-token-{n}", clock.GetUtcNow().AddHours(1)));
        }
    }
}

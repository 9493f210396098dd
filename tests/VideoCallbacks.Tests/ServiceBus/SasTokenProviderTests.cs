using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

public sealed class SasTokenProviderTests
{
    private static readonly ServiceBusConnectionString Connection =
        ServiceBusConnectionString.Parse("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0");

    [Fact]
    public async Task Token_is_reused_while_more_than_the_renewal_margin_is_left()
    {
        var clock = new ManualTimeProvider();
        var provider = NewProvider(clock);

        var first = await provider.GetAuthorizationAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(54));
        var later = await provider.GetAuthorizationAsync(CancellationToken.None);

        Assert.Same(first, later);
        Assert.Equal(clock.GetUtcNow().AddMinutes(6), provider.CachedExpiresAt);
    }

    [Fact]
    public async Task Token_is_renewed_once_less_than_the_renewal_margin_is_left()
    {
        var clock = new ManualTimeProvider();
        var provider = NewProvider(clock);
        var start = clock.GetUtcNow();

        var first = await provider.GetAuthorizationAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(55) + TimeSpan.FromSeconds(1));
        var renewed = await provider.GetAuthorizationAsync(CancellationToken.None);

        Assert.NotEqual(first, renewed);
        Assert.Contains($"se={start.AddHours(1).ToUnixTimeSeconds()}&", first, StringComparison.Ordinal);
        Assert.Contains($"se={clock.GetUtcNow().AddHours(1).ToUnixTimeSeconds()}&", renewed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalidate_forces_a_new_token()
    {
        var clock = new ManualTimeProvider();
        var provider = NewProvider(clock);
        _ = await provider.GetAuthorizationAsync(CancellationToken.None);

        provider.Invalidate();

        Assert.Null(provider.CachedExpiresAt);
        Assert.StartsWith("SharedAccessSignature sr=", await provider.GetAuthorizationAsync(CancellationToken.None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_is_signed_for_the_topic_address()
    {
        var provider = NewProvider(new ManualTimeProvider());

        var token = await provider.GetAuthorizationAsync(CancellationToken.None);

        Assert.StartsWith("SharedAccessSignature sr=https%3a%2f%2fcontoso.servicebus.windows.net%2fvideo-extensions&sig=", token, StringComparison.Ordinal);
        Assert.EndsWith("&skn=send", token, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publisher_keeps_publishing_after_its_first_token_has_expired()
    {
        var clock = new ManualTimeProvider();
        await using var server = await FakeServiceBusServer.StartAsync(o => o.TimeProvider = clock);
        await using var host = PublisherHost.For(server, time: clock);

        var before = await host.Publisher.PublishAsync([TestEvents.Create("job-a", 1)], CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(2));
        var after = await host.Publisher.PublishAsync([TestEvents.Create("job-a", 2)], CancellationToken.None);

        Assert.True(before.Single().Published);
        Assert.True(after.Single().Published, after.Single().Error);
        var tokens = server.Requests.Select(r => r.Authorization).Distinct().ToList();
        Assert.Equal(2, tokens.Count);
    }

    private static SasTokenProvider NewProvider(TimeProvider clock) =>
        new(Connection, "https://contoso.servicebus.windows.net/video-extensions", clock, TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));
}

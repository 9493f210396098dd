namespace VideoCallbacks.Tests.Submission;

/// <summary>
/// Issue 18, defects 2 and 3: a caught-up stream answers at once and sends heartbeats while idle; streams are capped
/// per client; every open stream is fed by one shared reader.
/// </summary>
public sealed class EventStreamTests
{
    [Theory, BothDatabases]
    public async Task A_caught_up_stream_answers_200_with_headers_at_once_and_then_heartbeat_comments(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s["Events:Heartbeat"] = "00:00:00.300";
            // No reconciliation: its progress event for the ~never task would be data on the idle stream.
            TestApp.NoReconcile(s);
        });
        await app.Driver.SubmitAsync(Kie(sourceTaskId: "stream-idle~never"));
        var newest = (await app.Driver.FeedAsync()).Max(e => e.Sequence());

        foreach (var path in new[] { $"/v1/events/stream?after={newest}", "/v1/events/stream?after=999999" })
        {
            using var cts = new CancellationTokenSource(Wait.Default);
            // Headers arrive although no event exists after the position.
            using var response = await app.Driver.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            var lines = new List<string>();
            while (lines.Count(l => l.StartsWith(':')) < 2 && await reader.ReadLineAsync(cts.Token) is { } line) lines.Add(line);
            Assert.Equal(2, lines.Count(l => l.StartsWith(':')));
            Assert.DoesNotContain(lines, l => l.StartsWith("data:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_stream_on_an_empty_store_answers_at_once()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["Events:Heartbeat"] = "00:00:00.200");

        using var response = await app.Driver.GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var cts = new CancellationTokenSource(Wait.Default);
        Assert.StartsWith(":", await reader.ReadLineAsync(cts.Token));
    }

    [Fact]
    public async Task Streams_past_the_per_client_cap_get_429_and_a_closed_stream_frees_its_slot()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["Events:MaxStreamsPerClient"] = "3");
        var open = new List<HttpResponseMessage>();
        // Two keys of the one client `default`: the cap is the client's, whichever key it uses.
        var otherKey = app.Driver.As(TestApp.OtherClientKey);
        for (var i = 0; i < 3; i++)
        {
            var response = await (i % 2 == 0 ? app.Driver : otherKey).GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            open.Add(response);
        }

        using (var refused = await app.Driver.GetAsync("/v1/events/stream"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(refused));
            Assert.Contains("Events:MaxStreamsPerClient", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Another tenant (an admin key counts on its own) is not affected.
        using (var admin = await app.Driver.Admin.GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        open[0].Dispose();
        var again = await Wait.UntilAsync(async () =>
        {
            var r = await app.Driver.GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead);
            if (r.StatusCode == HttpStatusCode.OK) return r;
            r.Dispose();
            return null;
        }, r => r is not null, "the closed stream's slot to be freed");
        again!.Dispose();
        foreach (var r in open) r.Dispose();
    }

    [Theory, BothDatabases]
    public async Task Many_open_streams_are_fed_by_one_shared_reader_and_each_gets_every_new_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var fanout = app.Get<EventFanout>();
        var newest = (await app.Driver.FeedAsync()).Select(e => e.Sequence()).DefaultIfEmpty(0).Max();
        var streams = Enumerable.Range(0, 10)
            .Select(_ => Sse.ReadAsync(app.Driver, got => got.Any(e => e.Event == "video.extension.submitted"), lastEventId: newest.ToString(CultureInfo.InvariantCulture)))
            .ToList();
        await Wait.UntilAsync(() => Task.FromResult(fanout.OpenStreams), n => n == 10, "ten streams open on the shared reader");

        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "stream-fanout~never"))).JobId();

        foreach (var received in await Task.WhenAll(streams))
        {
            Assert.Contains(received, e => e.Json().Subject() == jobId && e.Event == "video.extension.submitted");
        }
        Assert.True(fanout.Current.Ready);
        Assert.Contains(fanout.Current.Events, e => e.Json.Contains(jobId, StringComparison.Ordinal));
        await Wait.UntilAsync(() => Task.FromResult(fanout.OpenStreams), n => n == 0, "the streams to close");
    }

    [Fact]
    public void A_snapshot_answers_the_events_after_a_position_by_sequence()
    {
        var events = new[] { 3L, 5, 9 }.Select(n => new FanoutEvent(n, "default", "t", "{}")).ToArray();
        var snapshot = new FanoutSnapshot(true, 2, 9, events, Task.CompletedTask);

        Assert.Equal([3L, 5, 9], snapshot.After(2).ToArray().Select(e => e.Sequence));
        Assert.Equal([5L, 9], snapshot.After(3).ToArray().Select(e => e.Sequence));
        Assert.Equal([9L], snapshot.After(8).ToArray().Select(e => e.Sequence));
        Assert.Empty(snapshot.After(9).ToArray());
    }
}

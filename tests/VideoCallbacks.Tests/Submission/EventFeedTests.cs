namespace VideoCallbacks.Tests.Submission;

public sealed class EventFeedTests
{
    [Theory, BothDatabases]
    public async Task Each_accepted_job_writes_one_submitted_cloud_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var job = await app.Driver.SubmitAsync(Kie(sourceTaskId: "feed-one~never", index: 1, correlationId: "order-77"));

        var e = Assert.Single(await app.Driver.FeedAsync(limit: 100), x => x.Subject() == job.JobId() && x.Type() == "video.extension.submitted");
        Assert.Equal("1.0", e.GetProperty("specversion").GetString());
        Assert.Equal($"{job.JobId()}:submitted", e.GetProperty("id").GetString());
        Assert.Equal("video.extension.submitted", e.Type());
        Assert.Equal("/providers/kie", e.GetProperty("source").GetString());
        Assert.Equal("application/json", e.GetProperty("datacontenttype").GetString());
        var data = e.GetProperty("data");
        Assert.Equal(job.JobId(), data.GetProperty("jobId").GetString());
        Assert.Equal("kie", data.GetProperty("provider").GetString());
        Assert.Equal(job.GetProperty("providerTaskId").GetString(), data.GetProperty("providerTaskId").GetString());
        Assert.Equal("feed-one~never", data.GetProperty("sourceTaskId").GetString());
        Assert.Equal(1, data.GetProperty("index").GetInt32());
        Assert.Equal("submitted", data.GetProperty("status").GetString());
        Assert.Equal("order-77", data.GetProperty("correlationId").GetString());

        // The job lists it too.
        var eventRef = Assert.Single(job.GetProperty("events").EnumerateArray());
        Assert.Equal($"{job.JobId()}:submitted", eventRef.GetProperty("id").GetString());
        Assert.Equal("video.extension.submitted", eventRef.GetProperty("type").GetString());
    }

    [Theory, BothDatabases]
    public async Task Feed_pages_in_sequence_order_with_next(Db db)
    {
        // No reconciliation: a progress event for a ~never task would make the page past the end non-empty.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var jobIds = new List<string>();
        for (var i = 0; i < 5; i++) jobIds.Add((await app.Driver.SubmitAsync(Kie(sourceTaskId: $"feed-page-{i}~never"))).JobId());

        var first = await (await app.Driver.GetAsync("/v1/events?after=0&limit=2")).JsonAsync();
        var firstEvents = first.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(2, firstEvents.Count);
        Assert.Equal(firstEvents[^1].Sequence(), first.GetProperty("next").GetInt64());

        var second = await (await app.Driver.GetAsync($"/v1/events?after={first.GetProperty("next").GetInt64()}&limit=2")).JsonAsync();
        var secondEvents = second.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(2, secondEvents.Count);
        Assert.True(secondEvents[0].Sequence() > firstEvents[^1].Sequence());

        var all = await app.Driver.FeedAsync(limit: 2);
        var sequences = all.Select(e => e.Sequence()).ToList();
        Assert.Equal(sequences.Order().Distinct(), sequences);
        Assert.Equal(firstEvents.Concat(secondEvents).Select(e => e.Sequence()), sequences.Take(4));
        // Submission order is feed order.
        Assert.Equal(jobIds, all.Where(e => e.Type() == "video.extension.submitted").Select(e => e.Subject()));

        // Past the end: an empty page that keeps the position.
        var last = sequences[^1];
        var end = await (await app.Driver.GetAsync($"/v1/events?after={last}&limit=100")).JsonAsync();
        Assert.Empty(end.GetProperty("events").EnumerateArray());
        Assert.Equal(last, end.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task Feed_refuses_bad_paging_parameters_with_a_problem()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        foreach (var query in new[] { "after=-1", "limit=0", "limit=100000" })
        {
            using var response = await app.Driver.GetAsync($"/v1/events?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        }
    }

    [Theory, BothDatabases]
    public async Task Stream_delivers_events_with_the_sequence_as_id_and_resumes_after_Last_Event_ID(Db db)
    {
        // No reconciliation: a progress event for a ~never task could come among the three submitted ones.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var jobIds = new List<string>();
        for (var i = 0; i < 3; i++) jobIds.Add((await app.Driver.SubmitAsync(Kie(sourceTaskId: $"feed-sse-{i}~never"))).JobId());

        var streamed = await Sse.ReadAsync(app.Driver, got => got.Count >= 3);

        var feed = await app.Driver.FeedAsync(limit: 100);
        Assert.Equal(feed.Take(3).Select(e => e.Sequence().ToString(CultureInfo.InvariantCulture)), streamed.Take(3).Select(e => e.Id));
        foreach (var item in streamed.Take(3))
        {
            var cloudEvent = item.Json();
            Assert.Equal(item.Id, cloudEvent.Sequence().ToString(CultureInfo.InvariantCulture));
            Assert.Equal("video.extension.submitted", cloudEvent.Type());
            Assert.Equal("video.extension.submitted", item.Event);
        }
        Assert.Equal(jobIds, streamed.Take(3).Select(e => e.Json().Subject()));

        // Reconnect after the first: the stream resumes with the second.
        var resumed = await Sse.ReadAsync(app.Driver, got => got.Count >= 2, lastEventId: streamed[0].Id);
        Assert.Equal(streamed[1].Id, resumed[0].Id);
        Assert.Equal(streamed[2].Id, resumed[1].Id);
    }

    [Theory, BothDatabases]
    public async Task Stream_pushes_events_committed_after_the_client_connected(Db db)
    {
        // No reconciliation: its progress event for the first ~never task would come after lastSeen.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var before = await app.Driver.SubmitAsync(Kie(sourceTaskId: "feed-live-0~never"));
        var lastSeen = Assert.Single(await app.Driver.FeedAsync(limit: 100)).Sequence().ToString(CultureInfo.InvariantCulture);

        var reading = Sse.ReadAsync(app.Driver, got => got.Any(e => e.Json().Subject() != before.JobId()), lastEventId: lastSeen);
        var laterJobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "feed-live-1~never"))).JobId();
        var streamed = await reading;

        Assert.DoesNotContain(streamed, e => e.Json().Subject() == before.JobId());
        Assert.Contains(streamed, e => e.Json().Subject() == laterJobId && e.Event == "video.extension.submitted");
    }

    [Fact]
    public async Task Stream_refuses_a_Last_Event_ID_that_is_not_a_sequence()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events/stream");
        request.Headers.Add("Last-Event-ID", "not-a-number");

        using var response = await app.Driver.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Feed_and_stream_need_an_api_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.As(null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/events")).StatusCode);
        using var stream = await anonymous.GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.Unauthorized, stream.StatusCode);
    }
}

using System.Net.Sockets;

namespace VideoCallbacks.Tests.Cli;

public sealed class CliTests : IAsyncLifetime
{
    private FakeAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    /// <summary>Runs the CLI in-process; by default the URL and admin key come from the (fake) environment.</summary>
    private Task<CliRun> Run(string[] args, string stdin = "", Dictionary<string, string>? env = null, bool? interactive = null)
    {
        env ??= new Dictionary<string, string>
        {
            ["VIDEOCALLBACKS_URL"] = _api.Url,
            ["VIDEOCALLBACKS_ADMIN_KEY"] = FakeAdminApi.AdminKey,
        };
        return CliRun.ExecuteAsync(args, name => env.TryGetValue(name, out var value) ? value : null, stdin, interactive);
    }

    private static JsonElement Body(RecordedRequest request) => JsonDocument.Parse(request.Body).RootElement;

    [Fact]
    public async Task Events_list_prints_an_aligned_table()
    {
        var run = await Run(["events", "list"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        var lines = run.OutLines;
        Assert.StartsWith("SEQ", lines[0], StringComparison.Ordinal);
        var statusColumn = lines[0].IndexOf("STATUS", StringComparison.Ordinal);
        var errorColumn = lines[0].IndexOf("LAST ERROR", StringComparison.Ordinal);
        Assert.True(statusColumn > 0 && errorColumn > statusColumn);
        Assert.Equal("failed", lines[1][statusColumn..].Split(' ')[0]);
        Assert.Equal("published", lines[2][statusColumn..].Split(' ')[0]);
        Assert.Equal("401 Unauthorized from bus", lines[1][errorColumn..]);
        Assert.Contains("job-1:completed", lines[1], StringComparison.Ordinal);
        Assert.Contains("2025-01-31 12:00:00Z", lines[1], StringComparison.Ordinal);
        Assert.Contains("--cursor page-2", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_list_with_json_prints_the_raw_api_json()
    {
        var run = await Run(["events", "list", "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(FakeAdminApi.EventsPage1Json, run.Stdout.Trim());
    }

    [Fact]
    public async Task Events_list_sends_filters_as_query_parameters()
    {
        var run = await Run(["events", "list", "--status", "failed", "--provider", "kie", "--type", "video.extension.completed",
            "--since", "2025-01-31T12:00:00+02:00", "--limit", "5", "--cursor", "abc"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.Equal("GET", request.Method);
        Assert.Equal("/v1/admin/events", request.Path);
        Assert.Equal(
            "?status=failed&provider=kie&type=video.extension.completed&since=2025-01-31T10%3A00%3A00Z&limit=5&cursor=abc",
            request.Query);
    }

    [Fact]
    public async Task Events_list_all_follows_next_cursor_until_null()
    {
        var run = await Run(["events", "list", "--all", "--json"]);

        Assert.Equal(0, run.ExitCode);
        var requests = _api.Snapshot();
        Assert.Equal(2, requests.Count);
        Assert.Equal("", requests[0].Query);
        Assert.Equal("?cursor=page-2", requests[1].Query);
        var merged = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(3, merged.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, merged.GetProperty("nextCursor").ValueKind);
        Assert.Equal("ignored", merged.GetProperty("items")[0].GetProperty("extraField").GetString());
    }

    [Fact]
    public async Task Single_replay_posts_to_the_event_and_passes_force()
    {
        var run = await Run(["events", "replay", "job-2:progress:40", "--force"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/admin/events/job-2:progress:40/replay", request.Path);
        Assert.Equal("?force=true", request.Query);
        Assert.Contains("Replayed event job-2:progress:40", run.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("warning: event was already published", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Single_replay_of_a_published_event_without_force_exits_1_with_the_conflict()
    {
        var run = await Run(["events", "replay", "job-2:progress:40"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal(
            "error: 409 Conflict: Event job-2:progress:40 is already published; replay it with force.",
            Assert.Single(run.ErrLines));
    }

    [Fact]
    public async Task Bulk_replay_with_yes_sends_the_filter_and_dry_run_false()
    {
        var run = await Run(["events", "replay", "--status", "failed", "--provider", "kie", "--type", "video.extension.completed",
            "--since", "2025-01-31T00:00:00Z", "--limit", "10", "--force", "--yes"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/admin/events/replay", request.Path);
        var body = Body(request);
        Assert.Equal("failed", body.GetProperty("status").GetString());
        Assert.Equal("kie", body.GetProperty("provider").GetString());
        Assert.Equal("video.extension.completed", body.GetProperty("type").GetString());
        Assert.Equal("2025-01-31T00:00:00Z", body.GetProperty("since").GetString());
        Assert.Equal(10, body.GetProperty("limit").GetInt32());
        Assert.False(body.GetProperty("dryRun").GetBoolean());
        Assert.True(body.GetProperty("force").GetBoolean());
        Assert.False(body.TryGetProperty("until", out _), "null filter fields are omitted");
        Assert.Contains("Replayed 3 events", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_replay_dry_run_makes_only_the_dry_run_call()
    {
        var run = await Run(["events", "replay", "--status", "failed", "--dry-run"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.True(Body(request).GetProperty("dryRun").GetBoolean());
        Assert.Contains("3 events would be replayed", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_replay_without_yes_refuses_with_exit_2_when_stdin_is_redirected()
    {
        var run = await Run(["events", "replay", "--status", "failed"], stdin: "y\n");

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(_api.Snapshot());
        var line = Assert.Single(run.ErrLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("--yes", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_replay_interactive_asks_after_a_dry_run_and_replays_on_yes()
    {
        var run = await Run(["events", "replay", "--status", "failed"], stdin: "y\n", interactive: true);

        Assert.Equal(0, run.ExitCode);
        var requests = _api.Snapshot();
        Assert.Equal(2, requests.Count);
        Assert.True(Body(requests[0]).GetProperty("dryRun").GetBoolean());
        Assert.False(Body(requests[1]).GetProperty("dryRun").GetBoolean());
        Assert.Contains("Replay 3 events? [y/N]", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_replay_interactive_answer_no_replays_nothing_and_exits_2()
    {
        var run = await Run(["events", "replay", "--status", "failed"], stdin: "n\n", interactive: true);

        Assert.Equal(2, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.True(Body(request).GetProperty("dryRun").GetBoolean());
    }

    [Fact]
    public async Task Replay_without_id_or_status_is_a_usage_error()
    {
        var run = await Run(["events", "replay", "--yes"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(_api.Snapshot());
    }

    [Fact]
    public async Task Api_403_exits_1_with_a_one_line_reason_and_never_echoes_the_key()
    {
        var run = await Run(["events", "list", "--url", _api.Url, "--admin-key", FakeAdminApi.ClientKey], env: new Dictionary<string, string>());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("error: 403 Forbidden: This endpoint needs an admin key.", Assert.Single(run.ErrLines));
        Assert.DoesNotContain(FakeAdminApi.ClientKey, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_admin_key_gets_401_and_a_hint()
    {
        var run = await Run(["audit", "list", "--url", _api.Url], env: new Dictionary<string, string>());

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.ErrLines);
        Assert.StartsWith("error: 401 Unauthorized:", line, StringComparison.Ordinal);
        Assert.Contains("VIDEOCALLBACKS_ADMIN_KEY", line, StringComparison.Ordinal);
        Assert.Null(Assert.Single(_api.Snapshot()).ApiKey);
    }

    [Fact]
    public async Task Unreachable_service_exits_3()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var url = $"http://127.0.0.1:{port}";

        var run = await Run(["events", "list", "--url", url]);

        Assert.Equal(3, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.ErrLines);
        Assert.StartsWith($"error: cannot reach {url}: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeAdminApi.AdminKey, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_key_is_taken_from_the_environment_when_the_option_is_absent()
    {
        var run = await Run(["callbacks", "list"], env: new Dictionary<string, string>
        {
            ["VIDEOCALLBACKS_URL"] = _api.Url,
            ["VIDEOCALLBACKS_ADMIN_KEY"] = FakeAdminApi.AdminKey,
        });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(FakeAdminApi.AdminKey, Assert.Single(_api.Snapshot()).ApiKey);
    }

    [Fact]
    public async Task Admin_key_option_wins_over_the_environment()
    {
        var run = await Run(["callbacks", "list", "--admin-key", FakeAdminApi.ClientKey]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(FakeAdminApi.ClientKey, Assert.Single(_api.Snapshot()).ApiKey);
    }

    [Fact]
    public async Task Callbacks_list_prints_a_table_with_the_outcome_filter_sent()
    {
        var run = await Run(["callbacks", "list", "--outcome", "rejected"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("?outcome=rejected", Assert.Single(_api.Snapshot()).Query);
        Assert.StartsWith("ID", run.OutLines[0], StringComparison.Ordinal);
        Assert.Contains("bad signature", run.OutLines[1], StringComparison.Ordinal);
        Assert.Equal(3, run.OutLines.Length);
    }

    [Fact]
    public async Task Callbacks_reprocess_posts_and_reports_the_outcome()
    {
        var run = await Run(["callbacks", "reprocess", "7"]);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_api.Snapshot());
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/admin/callbacks/7/reprocess", request.Path);
        Assert.Contains("accepted", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("job-1:completed", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_show_prints_the_job_and_its_events()
    {
        var run = await Run(["jobs", "show", "job-1"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/v1/extensions/job-1", Assert.Single(_api.Snapshot()).Path);
        Assert.Contains("completed", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("https://cdn.example/v1.mp4", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("customer=acme", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("video.extension.submitted", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_show_unknown_job_exits_1()
    {
        var run = await Run(["jobs", "show", "nope"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: 404 Not Found: No job 'nope'.", Assert.Single(run.ErrLines));
    }

    [Fact]
    public async Task Audit_list_json_prints_the_raw_api_json()
    {
        var run = await Run(["audit", "list", "--limit", "20", "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("?limit=20", Assert.Single(_api.Snapshot()).Query);
        Assert.Equal(FakeAdminApi.AuditJson, run.Stdout.Trim());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("events", "--help")]
    [InlineData("events", "replay", "--help")]
    [InlineData("callbacks", "list", "-h")]
    public async Task Help_exits_0_and_contacts_nothing(params string[] args)
    {
        var run = await Run(args);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Stdout, StringComparison.Ordinal);
        Assert.Empty(_api.Snapshot());
    }

    [Theory]
    [InlineData("events", "list", "--status", "exploded")]
    [InlineData("events", "list", "--since", "last tuesday")]
    [InlineData("events", "list", "--limit", "0")]
    [InlineData("callbacks", "reprocess", "abc")]
    [InlineData("events")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_exits_2_without_calling_the_service(params string[] args)
    {
        var run = await Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(_api.Snapshot());
    }
}

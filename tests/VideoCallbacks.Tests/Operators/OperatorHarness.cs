using System.Data.Common;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Npgsql;
using VideoCallbacks.Tests.Cli;
using AdminEvent = VideoCallbacks.Contracts.AdminEvent;

namespace VideoCallbacks.Tests.Operators;

/// <summary>
/// The real service (own database, in-process provider simulator) publishing to its own fake Service Bus,
/// plus the helpers operator tests share: submitting jobs, reading the admin lists, running the CLI.
/// </summary>
public sealed class OperatorHarness : IAsyncDisposable
{
    private readonly BusApp _bus;

    private OperatorHarness(BusApp bus) => _bus = bus;

    public TestApp App => _bus.App;

    public LocalServiceBus Broker => _bus.Broker;

    /// <summary>The suite's driver for this service.</summary>
    public ServiceApi Api => _bus.Api;

    /// <summary>Raw admin requests (the driver's admin client).</summary>
    public HttpClient Admin => Api.Admin;

    public SimulatorState Simulator => App.Get<SimulatorState>();

    /// <summary>What the service calls the admin key in audit entries: "key_" + the first 12 hex digits of its SHA-256.</summary>
    public static string AdminKeyId => "key_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(TestApp.AdminKey)))[..12];

    /// <param name="failing">A fault every send meets until <see cref="LocalServiceBus.ClearFaults"/>, armed before the service starts.</param>
    public static async Task<OperatorHarness> StartAsync(Db db, Action<Dictionary<string, string?>>? configure = null, BrokerFault? failing = null) =>
        new(await BusApp.StartAsync(db, settings =>
        {
            settings["Relay:MaxAttempts"] = "2";
            settings["Relay:MaxDelay"] = "00:00:00.200";
            settings["Relay:PollInterval"] = "00:00:00.100";
            // Operator tests drive jobs by callbacks only: no provider polling behind their back.
            settings["Reconcile:After"] = "01:00:00";
            configure?.Invoke(settings);
        }, failing));

    public ValueTask DisposeAsync() => _bus.DisposeAsync();

    // ------------------------------------------------------------------ jobs

    public Task<string> SubmitKieAsync(string sourceTaskId) =>
        SubmitAsync(new { provider = "kie", sourceTaskId, index = 0, mode = "auto" });

    public Task<string> SubmitApiframeAsync(string sourceTaskId) =>
        SubmitAsync(new { provider = "apiframe", sourceTaskId, index = 0, prompt = "x" });

    private async Task<string> SubmitAsync(object body) => (await Api.SubmitAsync(body)).GetProperty("jobId").GetString()!;

    /// <summary>
    /// Waits until every job has completed and none of their events is pending any more (each is published or
    /// failed), then answers all events of those jobs.
    /// </summary>
    public async Task<List<AdminEvent>> WaitUntilSettledAsync(params string[] jobIds)
    {
        await Api.WaitForJobsAsync(jobIds, "completed");
        return await Wait.UntilAsync(
            async () => (await Api.AdminEventsAsync()).Where(e => jobIds.Contains(e.JobId)).ToList(),
            events => events.Count > 0 && events.All(e => e.Status != "pending"),
            "every event to be published or failed");
    }

    /// <summary>The provider task the simulator holds for a job (its callback URL and webhook secret).</summary>
    public async Task<SimulatedTask> TaskOfAsync(string jobId)
    {
        var job = await Api.JobAsync(jobId);
        var taskId = job.GetProperty("providerTaskId").GetString();
        Assert.False(string.IsNullOrEmpty(taskId), $"job {jobId} has no provider task yet");
        return Simulator.FindTask(taskId!) ?? throw new Xunit.Sdk.XunitException($"the simulator has no task {taskId}");
    }

    /// <summary>A callback body for an Apiframe task that verifies but cannot be read ("finished" without a video).</summary>
    public static string UnreadableCallback(SimulatedTask task) =>
        JsonSerializer.Serialize(new { task_id = task.TaskId, task_type = "imagine-video-extend", status = "finished" });

    /// <summary>
    /// Posts <see cref="UnreadableCallback"/> for an Apiframe job with the job's own secret and checks the service kept
    /// it as a failed callback (answered 200, so the provider does not retry). Answers the job's provider task.
    /// </summary>
    public async Task<SimulatedTask> PostUnreadableCallbackAsync(string jobId)
    {
        var task = await TaskOfAsync(jobId);
        Assert.False(string.IsNullOrEmpty(task.CallbackUrl));
        Assert.False(string.IsNullOrEmpty(task.WebhookSecret));
        using var response = await Api.PostApiframeCallbackAsync(task.CallbackUrl!, UnreadableCallback(task), task.WebhookSecret);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", (await response.JsonAsync()).GetProperty("outcome").GetString());
        return task;
    }

    /// <summary>Asserts a 400 problem whose <c>errors</c> name <paramref name="fields"/>.</summary>
    public static async Task AssertValidationProblemAsync(HttpResponseMessage response, params string[] fields)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        Assert.True(document.RootElement.TryGetProperty("errors", out var errors), $"no 'errors' in {text}");
        foreach (var field in fields)
        {
            Assert.True(errors.TryGetProperty(field, out var messages) && messages.GetArrayLength() > 0, $"'{field}' not named in {text}");
        }
    }

    // ------------------------------------------------------------------ broker

    /// <summary>Message ids of every send the broker accepted, one entry per send (so a re-send shows twice).</summary>
    public List<string> AcceptedSends() =>
        Broker.Transfers.Where(t => t.Accepted).SelectMany(t => t.MessageIds).ToList();

    /// <summary>Message ids the broker actually enqueued (after duplicate detection).</summary>
    public List<string> EnqueuedIds() => Broker.Messages.Select(m => m.MessageId ?? "").ToList();

    // ------------------------------------------------------------------ CLI

    /// <summary>Runs the real CLI against the service with the admin key (or <paramref name="adminKey"/>; null: none).</summary>
    public Task<CliRun> CliAsync(params string[] args) => CliWithKeyAsync(TestApp.AdminKey, args);

    public Task<CliRun> CliWithKeyAsync(string? adminKey, params string[] args) =>
        CliRun.ExecuteAsync([.. args, "--url", App.BaseUrl.ToString(), .. adminKey is null ? Array.Empty<string>() : ["--admin-key", adminKey]], env: _ => null);

    // ------------------------------------------------------------------ database

    /// <summary>Runs one statement on the service's own database, e.g. to stand in for a code change.</summary>
    public async Task<int> ExecuteSqlAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using DbConnection connection = App.Db == Db.Postgres
            ? new NpgsqlConnection(App.StorageConnectionString)
            : new SqliteConnection(App.StorageConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return await command.ExecuteNonQueryAsync();
    }
}

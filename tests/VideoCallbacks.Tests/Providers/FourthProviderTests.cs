using System.Text;
using Microsoft.AspNetCore.Http;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Tests.Providers.Fourth;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace VideoCallbacks.Tests.Providers;

/// <summary>
/// A provider is one folder: the fourth module under Providers/Fourth (in this test project, nothing in src/ changed)
/// is registered with one line and gets the callback route, validation, verification, events and admin filters.
/// </summary>
public sealed class FourthProviderTests : IAsyncLifetime
{
    private const string SigningKey = "fourth-signing-key-0123456789";
    private const string TaskId = "f-7f3a";

    private static readonly string[] Sections = ["Kie", "Apiframe", "NanoGpt", "Fourth"];

    private readonly WireMockServer _provider = WireMockServer.Start();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _provider.Given(Request.Create().WithPath("/v2/jobs").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBodyAsJson(new { job = new { id = TaskId, state = "running", percent = 0 } }));
        _app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["Sandbox:Enabled"] = "false";
            foreach (var section in Sections)
            {
                s[$"Providers:{section}:BaseUrl"] = _provider.Url;
                s[$"Providers:{section}:ApiKey"] = $"{section}-key";
            }
            s["Providers:Fourth:SigningKey"] = SigningKey;
            TestApp.NoReconcile(s);
            s["Reconcile:GiveUpAfter"] = "02:00:00";
        }, services => services.AddProvider<FourthProvider, FourthOptions>(FourthProvider.Name, FourthOptions.Section));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _provider.Stop();
    }

    [Fact]
    public async Task A_job_submitted_to_a_fourth_provider_completes_from_its_verified_callback_and_an_unverified_one_is_refused()
    {
        var job = await _app.Driver.SubmitAsync(new { provider = "fourth", prompt = "the tide comes in" });
        var jobId = job.JobId();
        Assert.Equal("fourth", job.GetProperty("provider").GetString());

        var sent = Assert.Single(_provider.LogEntries, e => e.RequestMessage!.Path == "/v2/jobs");
        Assert.Equal("Fourth-key", sent.RequestMessage!.Headers![FourthProvider.KeyHeader].Single());
        using var submitted = JsonDocument.Parse(sent.RequestMessage!.Body!);
        Assert.Equal("the tide comes in", submitted.RootElement.GetProperty("prompt").GetString());
        var callbackUrl = submitted.RootElement.GetProperty("notify").GetProperty("url").GetString()!;
        Assert.StartsWith($"{_app.BaseUrl.ToString().TrimEnd('/')}/v1/callbacks/fourth/{jobId}/", callbackUrl);
        var bound = await _app.Driver.JobAsync(jobId);
        Assert.Equal(("submitted", TaskId), (bound.GetProperty("status").GetString(), bound.GetProperty("providerTaskId").GetString()));

        var body = $$$"""{"job":{"id":"{{{TaskId}}}","state":"succeeded","outputs":[{"url":"https://cdn.fourth.example/{{{TaskId}}}/0.mp4"}]}}""";
        using (var unsigned = await _app.Driver.PostCallbackAsync(callbackUrl, body))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        }
        using (var forged = await _app.Driver.PostCallbackAsync(callbackUrl, body, Signed(body, "not-the-key")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }
        // Signed over other bytes: the signature covers the whole body, not just the task id.
        var tampered = body.Replace("0.mp4", "evil.mp4", StringComparison.Ordinal);
        using (var swapped = await _app.Driver.PostCallbackAsync(callbackUrl, tampered, Signed(body, SigningKey)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, swapped.StatusCode);
        }
        var refused = await _app.Driver.AdminCallbacksAsync($"?provider=fourth&outcome=rejected");
        Assert.Equal(3, refused.Count);
        Assert.All(refused, c => Assert.Equal(jobId, c.JobId));
        Assert.Equal(["bad fourth signature", "bad fourth signature", "missing fourth signature"], refused.Select(c => c.Reason!).Order());
        Assert.DoesNotContain(await _app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);

        using (var genuine = await _app.Driver.PostCallbackAsync(callbackUrl, body, Signed(body, SigningKey)))
        {
            Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        }
        var events = await _app.Driver.WaitForTerminalEventAsync(jobId);
        var completed = Assert.Single(events, ServiceApi.IsTerminal);
        Assert.Equal("video.extension.completed", completed.GetProperty("type").GetString());
        var data = completed.GetProperty("data");
        Assert.Equal("fourth", data.GetProperty("provider").GetString());
        Assert.Equal([$"https://cdn.fourth.example/{TaskId}/0.mp4"], data.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!));
        Assert.Contains((await _app.Driver.AdminCallbacksAsync("?provider=fourth&outcome=accepted")), c => c.JobId == jobId);
    }

    [Fact]
    public async Task Validation_messages_and_request_rules_come_from_the_registered_modules_including_the_fourth()
    {
        using var unknown = await _app.Driver.PostSubmitAsync(new { provider = "fifth", prompt = "x" });
        var problem = await ServiceApi.ExpectAsync(unknown, HttpStatusCode.BadRequest, "an unknown provider");
        Assert.Contains("use one of kie, apiframe, nanogpt, fourth.", problem.GetRawText(), StringComparison.Ordinal);

        using var foreign = await _app.Driver.PostSubmitAsync(new { provider = "fourth", prompt = "x", sourceTaskId = "abc", mode = "auto" });
        var rules = (await ServiceApi.ExpectAsync(foreign, HttpStatusCode.BadRequest, "fields the fourth does not take")).GetRawText();
        Assert.Contains("sourceTaskId does not apply to fourth; remove it.", rules, StringComparison.Ordinal);
        Assert.Contains("mode does not apply to fourth; remove it.", rules, StringComparison.Ordinal);
        Assert.DoesNotContain(_provider.LogEntries, e => e.RequestMessage!.Path == "/v2/jobs");
    }

    [Fact]
    public async Task The_callback_receiver_is_callable_without_http_and_commits_a_verified_callback_before_it_answers()
    {
        var job = await _app.Driver.SubmitAsync(new { provider = "fourth", prompt = "straight to the receiver" });
        var jobId = job.JobId();
        var sent = Assert.Single(_provider.LogEntries, e => e.RequestMessage!.Path == "/v2/jobs");
        using var submitted = JsonDocument.Parse(sent.RequestMessage!.Body!);
        var token = submitted.RootElement.GetProperty("notify").GetProperty("url").GetString()!.Split('/')[^1];
        var receiver = _app.Get<CallbackReceiver>();
        var body = $$$"""{"job":{"id":"{{{TaskId}}}","state":"failed","error":"content policy"}}""";

        var forged = await receiver.ReceiveAsync(CallbackFor(jobId, token, body, Signed(body, "wrong")), CancellationToken.None);
        Assert.Equal(ReceiptKind.Refused, forged.Kind);
        Assert.Equal(CallbackOutcomes.Rejected, forged.Outcome);
        var wrongToken = await receiver.ReceiveAsync(CallbackFor(jobId, token[..^2] + "xx", body, Signed(body, SigningKey)), CancellationToken.None);
        Assert.Equal(ReceiptKind.Refused, wrongToken.Kind);

        var genuine = await receiver.ReceiveAsync(CallbackFor(jobId, token, body, Signed(body, SigningKey)), CancellationToken.None);
        Assert.Equal(new CallbackReceipt(ReceiptKind.Stored, CallbackOutcomes.Accepted), genuine);
        // Committed before the receipt: the job is already failed when ReceiveAsync returns, no waiting.
        var stored = await _app.Driver.JobAsync(jobId);
        Assert.Equal("failed", stored.GetProperty("status").GetString());
        Assert.Equal("content policy", stored.GetProperty("error").GetProperty("message").GetString());

        var again = await receiver.ReceiveAsync(CallbackFor(jobId, token, body, Signed(body, SigningKey)), CancellationToken.None);
        Assert.Equal(new CallbackReceipt(ReceiptKind.Stored, CallbackOutcomes.Duplicate), again);
        Assert.Single(await _app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
        Assert.False(receiver.TakesCallbacks("fifth"));
        Assert.True(receiver.TakesCallbacks("fourth"));
    }

    private static CallbackRequest CallbackFor(string jobId, string token, string body, IReadOnlyDictionary<string, string> headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary[name] = value;
        return new CallbackRequest(FourthProvider.Name, jobId, token, dictionary, Encoding.UTF8.GetBytes(body));
    }

    private static Dictionary<string, string> Signed(string body, string key)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new()
        {
            [FourthCallbacks.TimestampHeader] = timestamp,
            [FourthCallbacks.SignatureHeader] = FourthCallbacks.Sign(key, timestamp, Encoding.UTF8.GetBytes(body)),
        };
    }
}

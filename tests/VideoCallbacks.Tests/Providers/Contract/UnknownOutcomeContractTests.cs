using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static VideoCallbacks.Tests.Providers.Contract.ProviderStub;

namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>
/// Answers that leave a submission's outcome unknown, the same for every provider: the task may exist, so the
/// outcome is Timeout (a 504 to the client, the job kept as unknown) and the request is never sent twice.
/// </summary>
public sealed class UnknownOutcomeContractTests
{
    public static TheoryData<string, string> MalformedBodies() => new()
    {
        { KieProvider.Name, """{"code":200,"msg":"success","data":{"taskId":""" },
        { ApiframeProvider.Name, """{"task_id": """ },
        { ApiframeProvider.Name, "" },
        { NanoGptProvider.Name, """{"runId": """ },
        { NanoGptProvider.Name, "" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_or_empty_body_on_a_200_is_an_unknown_outcome(string provider, string body)
    {
        using var stub = new ProviderStub();
        stub.Server.Given(Request.Create().WithPath(SubmitPath(provider)).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

        var result = await SubmitAsync(stub, provider);

        Assert.Equal(SubmitOutcome.Timeout, result.Outcome);
        Assert.False(result.NothingCreated);
        // WireMock logs a request once its (broken) answer went out, which can trail the client's failure.
        await stub.SettledAsync();
        Assert.Single(stub.Requests(SubmitPath(provider)));
    }

    public static TheoryData<string, FaultType> BrokenReplies() => new()
    {
        { KieProvider.Name, FaultType.EMPTY_RESPONSE },
        { KieProvider.Name, FaultType.MALFORMED_RESPONSE_CHUNK },
        { ApiframeProvider.Name, FaultType.EMPTY_RESPONSE },
        { ApiframeProvider.Name, FaultType.MALFORMED_RESPONSE_CHUNK },
        { NanoGptProvider.Name, FaultType.EMPTY_RESPONSE },
        { NanoGptProvider.Name, FaultType.MALFORMED_RESPONSE_CHUNK },
    };

    [Theory]
    [MemberData(nameof(BrokenReplies))]
    public async Task Empty_reply_or_connection_reset_is_an_unknown_outcome_sent_once(string provider, FaultType fault)
    {
        using var stub = new ProviderStub();
        stub.Server.Given(Request.Create().WithPath(SubmitPath(provider)).UsingPost()).RespondWith(Response.Create().WithFault(fault));

        var result = await SubmitAsync(stub, provider);

        Assert.Equal(SubmitOutcome.Timeout, result.Outcome);
        Assert.False(result.NothingCreated);
        // WireMock logs a request once its (broken) answer went out, which can trail the client's failure.
        await stub.SettledAsync();
        Assert.Single(stub.Requests(SubmitPath(provider)));
    }

    [Theory]
    [InlineData(KieProvider.Name)]
    [InlineData(ApiframeProvider.Name)]
    [InlineData(NanoGptProvider.Name)]
    public async Task Reply_slower_than_the_timeout_is_an_unknown_outcome_sent_once(string provider)
    {
        using var stub = new ProviderStub(timeout: TimeSpan.FromSeconds(1));
        stub.Server.Given(Request.Create().WithPath(SubmitPath(provider)).UsingPost())
            .RespondWith(Response.Create().WithDelay(TimeSpan.FromSeconds(3)).WithBody("{}"));

        var result = await SubmitAsync(stub, provider);

        Assert.Equal(SubmitOutcome.Timeout, result.Outcome);
        Assert.Contains("did not answer", result.Message);
        await stub.SettledAsync();
        Assert.Single(stub.Requests(SubmitPath(provider)));
    }

    private static string SubmitPath(string provider) => provider switch
    {
        KieProvider.Name => "/api/v1/mj/generateVideoExtend",
        ApiframeProvider.Name => "/imagine-video-extend",
        _ => "/api/generate-video/extend",
    };

    private static Task<SubmitResult> SubmitAsync(ProviderStub stub, string provider)
    {
        var request = new ExtensionRequest { Provider = provider, SourceTaskId = "source-task-1", Index = 0, Prompt = "a slow pan", Mode = provider == KieProvider.Name ? "manual" : null };
        IProvider client = provider switch
        {
            KieProvider.Name => stub.Kie,
            ApiframeProvider.Name => stub.Apiframe,
            _ => stub.NanoGpt,
        };
        return client.SubmitAsync(Submit(request), CancellationToken.None);
    }
}

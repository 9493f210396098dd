using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Configuration;

/// <summary>Every option is validated at start-up: a bad value stops the service with a message naming its key.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("RateLimits:PerKeyPerSecond", "0")]
    [InlineData("RateLimits:PerKeyBurst", "-5")]
    [InlineData("RateLimits:CallbacksPerSecond", "0")]
    [InlineData("Callbacks:CommitTimeout", "00:00:00")]
    [InlineData("Callbacks:SignatureTolerance", "-00:00:01")]
    [InlineData("Callbacks:MaxRejectedRecordsPerMinute", "-1")]
    [InlineData("Callbacks:MaxBatch", "0")]
    [InlineData("Callbacks:PublicBaseUrl", "ftp://callbacks.example.com")]
    [InlineData("Sandbox:CallbackDelay", "-00:00:01")]
    [InlineData("Sandbox:ProgressInterval", "01:00:00")]
    [InlineData("Relay:MaxAttempts", "0")]
    [InlineData("Relay:MaxDelay", "00:00:00.001")]
    [InlineData("Retention:Interval", "00:00:00")]
    [InlineData("Reconcile:GiveUpAfter", "00:00:01")]
    [InlineData("Providers:Kie:Timeout", "00:10:00")]
    [InlineData("Providers:Apiframe:BaseUrl", "not a url")]
    [InlineData("Providers:NanoGpt:PollConcurrency", "0")]
    [InlineData("Storage:Provider", "Oracle")]
    [InlineData("Bus:Transport", "Kafka")]
    [InlineData("Archive:Store", "S3")]
    [InlineData("Archive:Concurrency", "0")]
    [InlineData("Archive:MaxBytes", "0")]
    [InlineData("Archive:MaxBytesPerSecond", "-1")]
    [InlineData("Archive:AzureBlob:Container", "Bad_Name")]
    public async Task Bad_value_stops_start_up_with_a_message_naming_the_key(string key, string value)
    {
        var error = await TestApp.StartFailureAsync(Db.Sqlite, s => s[key] = value);

        // Options that read the bad one fail with it, so there may be several; each is a validation failure.
        var failures = Flatten(error).ToList();
        Assert.All(failures, f => Assert.IsType<OptionsValidationException>(f));
        Assert.Contains(failures, f => f.Message.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public void Public_base_url_is_optional_in_the_sandbox_whichever_feature_is_added_first()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sandbox:Enabled"] = "true", ["Sandbox:UnsafeAllowOutsideDevelopment"] = "true" }).Build();
        var environment = new TestEnvironment();

        var sandboxFirst = new ServiceCollection().AddSandbox(configuration, environment).AddCallbacks(configuration).BuildServiceProvider();
        var callbacksFirst = new ServiceCollection().AddCallbacks(configuration).AddSandbox(configuration, environment).BuildServiceProvider();

        Assert.Null(sandboxFirst.GetRequiredService<IOptions<CallbackOptions>>().Value.PublicBaseUrl);
        Assert.Null(callbacksFirst.GetRequiredService<IOptions<CallbackOptions>>().Value.PublicBaseUrl);
    }

    [Fact]
    public void Public_base_url_is_required_without_the_sandbox()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sandbox:Enabled"] = "false" }).Build();

        var services = new ServiceCollection().AddCallbacks(configuration).AddSandbox(configuration, new TestEnvironment()).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CallbackOptions>>().Value);
        Assert.Contains("Callbacks:PublicBaseUrl is required", error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception e) =>
        e is AggregateException a ? a.InnerExceptions.SelectMany(Flatten) : [e];

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "VideoCallbacks.Tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

using System.Text.Json.Nodes;

namespace VideoCallbacks.Tests.Submission;

/// <summary>One running service for the whole class: every test only posts its own request and reads the answer.</summary>
public sealed class ValidationApp : IAsyncLifetime
{
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await TestApp.StartAsync(Db.Sqlite);

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>Request bodies for the validation matrix, built from one valid body per provider and flow.</summary>
public static class Bodies
{
    public const string Kie = """{"provider":"kie","sourceTaskId":"ee603959-1111","index":0,"mode":"manual","prompt":"the camera pulls back"}""";
    public const string KieAuto = """{"provider":"kie","sourceTaskId":"ee603959-1111","index":0,"mode":"auto"}""";
    public const string Apiframe = """{"provider":"apiframe","sourceTaskId":"ee603959-1111","index":0,"prompt":"the camera pulls back"}""";
    public const string NanoTask = """{"provider":"nanogpt","sourceTaskId":"ee603959-1111","index":0}""";
    public const string NanoVideo = """{"provider":"nanogpt","model":"veo3-1-extend","prompt":"the camera pulls back","videoUrl":"https://cdn.example.com/v.mp4"}""";

    /// <summary><paramref name="body"/> with properties set (a null value removes the property).</summary>
    public static string With(string body, params (string Name, JsonNode? Value)[] changes)
    {
        var o = JsonNode.Parse(body)!.AsObject();
        foreach (var (name, value) in changes)
        {
            if (value is null) o.Remove(name);
            else o[name] = value;
        }
        return o.ToJsonString();
    }

    public static string Without(string body, params string[] names) => With(body, names.Select(n => (n, (JsonNode?)null)).ToArray());

    public static JsonObject Metadata(int entries)
    {
        var m = new JsonObject();
        for (var i = 0; i < entries; i++) m[$"k{i}"] = $"v{i}";
        return m;
    }
}

public sealed class ValidationTests(ValidationApp fixture) : IClassFixture<ValidationApp>
{
    private static readonly string Long2000 = new('p', 2000);
    private static readonly string Long2001 = new('p', 2001);

    /// <summary>Case name, body, and the exact set of fields the problem's <c>errors</c> must name.</summary>
    public static TheoryData<string, string, string[]> Invalid()
    {
        var data = new TheoryData<string, string, string[]>
        {
            { "unknown provider", Bodies.With(Bodies.Kie, ("provider", "midjourney")), ["provider"] },
            { "missing provider", Bodies.Without(Bodies.Kie, "provider"), ["provider"] },
            { "empty provider", Bodies.With(Bodies.Kie, ("provider", "")), ["provider"] },
            { "provider in capitals", Bodies.With(Bodies.Kie, ("provider", "KIE")), ["provider"] },

            { "kie manual without prompt", Bodies.Without(Bodies.Kie, "prompt"), ["prompt"] },
            { "kie manual with empty prompt", Bodies.With(Bodies.Kie, ("prompt", "")), ["prompt"] },
            { "kie manual prompt of 2001 chars", Bodies.With(Bodies.Kie, ("prompt", Long2001)), ["prompt"] },
            { "kie auto with a prompt", Bodies.With(Bodies.KieAuto, ("prompt", "more")), ["prompt"] },
            { "kie without mode", Bodies.Without(Bodies.Kie, "mode"), ["mode"] },
            { "kie with an unknown mode", Bodies.With(Bodies.Kie, ("mode", "fast")), ["mode"] },
            { "kie without sourceTaskId", Bodies.Without(Bodies.Kie, "sourceTaskId"), ["sourceTaskId"] },
            { "kie without index", Bodies.Without(Bodies.Kie, "index"), ["index"] },
            { "kie watermark of 101 chars", Bodies.With(Bodies.Kie, ("watermark", new string('w', 101))), ["watermark"] },
            { "kie with motion", Bodies.With(Bodies.Kie, ("motion", "low")), ["motion"] },
            { "kie with imageUrl", Bodies.With(Bodies.Kie, ("imageUrl", "https://cdn.example.com/i.png")), ["imageUrl"] },
            { "kie with model", Bodies.With(Bodies.Kie, ("model", "veo3-1-extend")), ["model"] },
            { "kie with videoUrl", Bodies.With(Bodies.Kie, ("videoUrl", "https://cdn.example.com/v.mp4")), ["videoUrl"] },
            {
                "kie with motion, imageUrl, model and videoUrl",
                Bodies.With(Bodies.Kie, ("motion", "low"), ("imageUrl", "https://cdn.example.com/i.png"), ("model", "m"), ("videoUrl", "https://cdn.example.com/v.mp4")),
                ["motion", "imageUrl", "model", "videoUrl"]
            },

            { "apiframe without prompt", Bodies.Without(Bodies.Apiframe, "prompt"), ["prompt"] },
            { "apiframe prompt of 2001 chars", Bodies.With(Bodies.Apiframe, ("prompt", Long2001)), ["prompt"] },
            { "apiframe motion medium", Bodies.With(Bodies.Apiframe, ("motion", "medium")), ["motion"] },
            { "apiframe imageUrl over http", Bodies.With(Bodies.Apiframe, ("imageUrl", "http://cdn.example.com/i.png")), ["imageUrl"] },
            { "apiframe relative imageUrl", Bodies.With(Bodies.Apiframe, ("imageUrl", "/images/i.png")), ["imageUrl"] },
            { "apiframe imageUrl that is no URL", Bodies.With(Bodies.Apiframe, ("imageUrl", "not a url")), ["imageUrl"] },
            { "apiframe without sourceTaskId", Bodies.Without(Bodies.Apiframe, "sourceTaskId"), ["sourceTaskId"] },
            { "apiframe with mode", Bodies.With(Bodies.Apiframe, ("mode", "manual")), ["mode"] },
            { "apiframe with watermark", Bodies.With(Bodies.Apiframe, ("watermark", "mine")), ["watermark"] },
            { "apiframe with model", Bodies.With(Bodies.Apiframe, ("model", "veo3-1-extend")), ["model"] },
            { "apiframe with videoUrl", Bodies.With(Bodies.Apiframe, ("videoUrl", "https://cdn.example.com/v.mp4")), ["videoUrl"] },
            {
                "apiframe with mode, watermark, model and videoUrl",
                Bodies.With(Bodies.Apiframe, ("mode", "auto"), ("watermark", "mine"), ("model", "m"), ("videoUrl", "https://cdn.example.com/v.mp4")),
                ["mode", "watermark", "model", "videoUrl"]
            },

            { "nanogpt task-based with videoUrl", Bodies.With(Bodies.NanoTask, ("videoUrl", "https://cdn.example.com/v.mp4")), ["videoUrl"] },
            { "nanogpt task-based with prompt", Bodies.With(Bodies.NanoTask, ("prompt", "more")), ["prompt"] },
            { "nanogpt task-based with model", Bodies.With(Bodies.NanoTask, ("model", "veo3-1-extend")), ["model"] },
            { "nanogpt task-based without index", Bodies.Without(Bodies.NanoTask, "index"), ["index"] },
            { "nanogpt with motion, mode, imageUrl and watermark", Bodies.With(Bodies.NanoTask, ("motion", "low"), ("mode", "auto"), ("imageUrl", "https://cdn.example.com/i.png"), ("watermark", "w")),
                ["motion", "mode", "imageUrl", "watermark"] },
            { "nanogpt source-video without model", Bodies.Without(Bodies.NanoVideo, "model"), ["model"] },
            { "nanogpt source-video without prompt", Bodies.Without(Bodies.NanoVideo, "prompt"), ["prompt"] },
            { "nanogpt source-video without videoUrl", Bodies.Without(Bodies.NanoVideo, "videoUrl"), ["videoUrl"] },
            { "nanogpt source-video videoUrl over http", Bodies.With(Bodies.NanoVideo, ("videoUrl", "http://cdn.example.com/v.mp4")), ["videoUrl"] },
            { "nanogpt source-video with index", Bodies.With(Bodies.NanoVideo, ("index", 0)), ["index"] },
            { "nanogpt source-video model with spaces", Bodies.With(Bodies.NanoVideo, ("model", "veo 3")), ["model"] },
            { "nanogpt source-video prompt of 2001 chars", Bodies.With(Bodies.NanoVideo, ("prompt", Long2001)), ["prompt"] },

            { "correlationId over 200 chars", Bodies.With(Bodies.Kie, ("correlationId", new string('c', 201))), ["correlationId"] },
            { "metadata with 33 entries", Bodies.With(Bodies.Kie, ("metadata", Bodies.Metadata(33))), ["metadata"] },
            { "metadata value of 513 chars", Bodies.With(Bodies.Kie, ("metadata", new JsonObject { ["k"] = new string('v', 513) })), ["metadata"] },
            { "metadata with an empty key", Bodies.With(Bodies.Kie, ("metadata", new JsonObject { [""] = "v" })), ["metadata"] },
            {
                "several errors at once",
                Bodies.With(Bodies.Without(Bodies.Kie, "sourceTaskId"), ("index", 9), ("mode", "fast"), ("motion", "low"), ("correlationId", new string('c', 201))),
                ["sourceTaskId", "index", "mode", "motion", "correlationId"]
            },
        };
        foreach (var (name, body) in new[] { ("kie", Bodies.Kie), ("apiframe", Bodies.Apiframe), ("nanogpt", Bodies.NanoTask) })
        {
            data.Add($"{name} index -1", Bodies.With(body, ("index", -1)), ["index"]);
            data.Add($"{name} index 4", Bodies.With(body, ("index", 4)), ["index"]);
        }
        return data;
    }

    /// <summary>Bodies the validator accepts; what the provider then does is not this class's concern.</summary>
    public static TheoryData<string, string> Valid() => new()
    {
        { "kie manual", Bodies.Kie },
        { "kie manual prompt of 2000 chars", Bodies.With(Bodies.Kie, ("prompt", Long2000)) },
        { "kie auto", Bodies.KieAuto },
        { "kie index 3 with watermark", Bodies.With(Bodies.Kie, ("index", 3), ("watermark", "mine")) },
        { "apiframe", Bodies.Apiframe },
        { "apiframe with motion and imageUrl", Bodies.With(Bodies.Apiframe, ("motion", "high"), ("imageUrl", "https://cdn.example.com/i.png")) },
        { "nanogpt task-based", Bodies.NanoTask },
        { "nanogpt source-video", Bodies.NanoVideo },
        { "correlationId of 200 chars and 32 metadata entries", Bodies.With(Bodies.Kie, ("correlationId", new string('c', 200)), ("metadata", Bodies.Metadata(32))) },
    };

    private async Task<HttpResponseMessage> PostAsync(string body, string contentType = "application/json")
    {
        var client = fixture.App.Driver.Http;
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        return await client.PostAsync("/v1/extensions", content);
    }

    /// <summary>Asserts a 400 problem and answers its <c>errors</c> object.</summary>
    private static async Task<Dictionary<string, string[]>> AssertValidationProblemAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Expected 400, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(400, doc.RootElement.GetProperty("status").GetInt32());
        var errors = doc.RootElement.GetProperty("errors").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(m => m.GetString()!).ToArray());
        Assert.All(errors.Values, messages => Assert.All(messages, m => Assert.False(string.IsNullOrWhiteSpace(m))));
        return errors;
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_request_is_a_problem_naming_every_bad_field(string name, string body, string[] fields)
    {
        using var response = await PostAsync(body);

        var errors = await AssertValidationProblemAsync(response);

        Assert.True(fields.Order(StringComparer.Ordinal).SequenceEqual(errors.Keys.Order(StringComparer.Ordinal)),
            $"{name}: expected errors for [{string.Join(", ", fields)}], got [{string.Join(", ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}]");
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public async Task Valid_request_passes_validation(string name, string body)
    {
        using var response = await PostAsync(body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode != HttpStatusCode.BadRequest, $"{name}: refused with 400: {text}");
    }

    [Fact]
    public async Task Unknown_property_is_refused_by_name()
    {
        using var response = await PostAsync(Bodies.With(Bodies.Kie, ("promt", "typo")));

        var errors = await AssertValidationProblemAsync(response);

        var error = Assert.Single(errors);
        Assert.Equal("promt", error.Key);
        Assert.Contains(error.Value, m => m.Contains("'promt'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Index_given_as_a_string_is_refused()
    {
        using var response = await PostAsync("""{"provider":"kie","sourceTaskId":"ee603959-1111","index":"1","mode":"auto"}""");

        var errors = await AssertValidationProblemAsync(response);

        Assert.Equal(["index"], errors.Keys);
    }

    [Theory]
    [InlineData("""{"provider":"kie","sourceTaskId":""")]
    [InlineData("""{"provider":"kie",}""")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    public async Task Malformed_json_is_a_validation_problem(string body)
    {
        using var response = await PostAsync(body);

        var errors = await AssertValidationProblemAsync(response);

        Assert.NotEmpty(errors);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    public async Task Empty_body_is_a_validation_problem(string body)
    {
        using var response = await PostAsync(body);

        var errors = await AssertValidationProblemAsync(response);

        Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task Metadata_that_is_not_a_string_map_is_refused()
    {
        using var response = await PostAsync(Bodies.With(Bodies.Kie, ("metadata", new JsonObject { ["n"] = 1 })));

        var errors = await AssertValidationProblemAsync(response);

        Assert.Equal(["metadata.n"], errors.Keys);
    }

    [Fact]
    public async Task Metadata_key_over_64_chars_is_refused()
    {
        using var response = await PostAsync(Bodies.With(Bodies.Kie, ("metadata", new JsonObject { [new string('k', 65)] = "v" })));

        var errors = await AssertValidationProblemAsync(response);

        Assert.Equal(["metadata"], errors.Keys);
    }

    [Fact]
    public async Task Body_over_64_KiB_is_a_413_problem()
    {
        var body = Bodies.With(Bodies.Kie, ("prompt", new string('p', 70 * 1024)));

        using var response = await PostAsync(body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"Expected 413, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(413, doc.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Chunked_body_over_64_KiB_is_a_413_problem()
    {
        var bytes = Encoding.UTF8.GetBytes(Bodies.With(Bodies.Kie, ("prompt", new string('p', 70 * 1024))));
        var client = fixture.App.Driver.Http;
        // A stream of unknown length goes out chunked, without Content-Length.
        using var content = new StreamContent(new NonSeekableStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/v1/extensions", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Body_of_exactly_64_KiB_is_read()
    {
        var body = Bodies.With(Bodies.Kie, ("metadata", new JsonObject { ["pad"] = "" }));
        // Pad with insignificant whitespace up to the limit: the size alone must not refuse it.
        body = body + new string(' ', SubmissionEndpoints.MaxBodyBytes - Encoding.UTF8.GetByteCount(body));
        Assert.Equal(SubmissionEndpoints.MaxBodyBytes, Encoding.UTF8.GetByteCount(body));

        using var response = await PostAsync(body);

        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Idempotency_key_over_200_chars_is_refused()
    {
        var client = fixture.App.Driver.Http;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/extensions")
        {
            Content = new StringContent(Bodies.Kie, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", new string('i', 201));

        using var response = await client.SendAsync(request);

        var errors = await AssertValidationProblemAsync(response);
        Assert.Equal(["Idempotency-Key"], errors.Keys);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>The validator on its own: every valid shape of every provider and flow passes, boundaries included.</summary>
public sealed class RequestValidationUnitTests
{
    private static readonly ExtensionRequestValidator Validator = new(Providers.Contract.ProviderStub.Registry());

    private static readonly Dictionary<string, ExtensionRequest> ValidShapes = new()
    {
        ["kie manual"] = new() { Provider = "kie", SourceTaskId = "src", Index = 0, Mode = "manual", Prompt = "more" },
        ["kie manual, 2000-char prompt, watermark, index 3"] = new()
        {
            Provider = "kie", SourceTaskId = "src", Index = 3, Mode = "manual", Prompt = new string('p', 2000), Watermark = new string('w', 100),
        },
        ["kie auto"] = new() { Provider = "kie", SourceTaskId = "src", Index = 1, Mode = "auto" },
        ["apiframe minimal"] = new() { Provider = "apiframe", SourceTaskId = "src", Index = 2, Prompt = "more" },
        ["apiframe motion low"] = new() { Provider = "apiframe", SourceTaskId = "src", Index = 0, Prompt = "more", Motion = "low" },
        ["apiframe motion high and imageUrl"] = new()
        {
            Provider = "apiframe", SourceTaskId = "src", Index = 3, Prompt = new string('p', 2000), Motion = "high", ImageUrl = "https://cdn.example.com/i.png?x=1",
        },
        ["nanogpt task-based"] = new() { Provider = "nanogpt", SourceTaskId = "src", Index = 3 },
        ["nanogpt source-video"] = new() { Provider = "nanogpt", Model = "veo3-1-extend", Prompt = "more", VideoUrl = "https://cdn.example.com/v.mp4" },
        ["nanogpt source-video, model with dots and underscores"] = new()
        {
            Provider = "nanogpt", Model = "kling_v2.1-extend", Prompt = new string('p', 2000), VideoUrl = "https://cdn.example.com/v.mp4",
        },
        ["with correlationId of 200 chars and 32 metadata entries"] = new()
        {
            Provider = "kie", SourceTaskId = "src", Index = 0, Mode = "auto", CorrelationId = new string('c', 200),
            Metadata = Enumerable.Range(0, 32).ToDictionary(i => $"k{i}", i => new string('v', 512)),
        },
        ["with a metadata key of 64 chars"] = new()
        {
            Provider = "kie", SourceTaskId = "src", Index = 0, Mode = "auto", Metadata = new() { [new string('k', 64)] = "" },
        },
    };

    public static TheoryData<string> ValidShapeNames() => new(ValidShapes.Keys);

    [Theory]
    [MemberData(nameof(ValidShapeNames))]
    public void Valid_shape_passes(string shape)
    {
        var result = Validator.Validate(ValidShapes[shape]);

        Assert.True(result.IsValid, $"{shape}: {string.Join("; ", result.Errors.Select(e => $"{e.PropertyName}: {e.ErrorMessage}"))}");
    }

    [Theory]
    [InlineData("kie")]
    [InlineData("apiframe")]
    [InlineData("nanogpt")]
    public void Every_index_from_0_to_3_passes_for_each_provider(string provider)
    {
        for (var index = 0; index <= 3; index++)
        {
            var request = new ExtensionRequest
            {
                Provider = provider, SourceTaskId = "src", Index = index,
                Mode = provider == "kie" ? "auto" : null, Prompt = provider == "apiframe" ? "more" : null,
            };
            Assert.True(Validator.Validate(request).IsValid, $"{provider} index {index}");
        }
    }

    [Fact]
    public void Field_for_another_provider_names_the_field_in_its_message()
    {
        var result = Validator.Validate(new ExtensionRequest { Provider = "kie", SourceTaskId = "src", Index = 0, Mode = "auto", Motion = "low" });

        var error = Assert.Single(result.Errors);
        Assert.Equal("motion", error.PropertyName);
        Assert.Contains("motion", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_metadata_entry_is_reported_on_metadata()
    {
        var result = Validator.Validate(new ExtensionRequest
        {
            Provider = "kie", SourceTaskId = "src", Index = 0, Mode = "auto", Metadata = new() { ["ok"] = "v", [new string('k', 65)] = "v" },
        });

        var error = Assert.Single(result.Errors);
        Assert.Equal("metadata", error.PropertyName);
    }

    [Fact]
    public void Unknown_provider_reports_only_the_provider()
    {
        var result = Validator.Validate(new ExtensionRequest { Provider = "sora", Prompt = "x", Motion = "low" });

        var error = Assert.Single(result.Errors);
        Assert.Equal("Provider", error.PropertyName);
        Assert.Contains("sora", error.ErrorMessage, StringComparison.Ordinal);
    }
}

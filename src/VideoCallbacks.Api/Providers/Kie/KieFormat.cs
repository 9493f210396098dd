using System.Text.Json;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Providers.Kie;

/// <summary>Kie.ai documents: the MJ callback and record-info.</summary>
public static class KieFormat
{
    /// <summary>The docs do not pin which field carries the task id in MJ callbacks; take the first present.</summary>
    public static string? TaskId(JsonElement root) => root.FirstStr(["taskId"], ["data", "taskId"], ["data", "task_id"]);

    public static (ProviderObservation? Observation, string? Problem) FromCallback(JsonElement root)
    {
        var code = root.Prop("code").Int();
        if (code is null) return (null, "callback has no numeric 'code'");
        if (code == 200)
        {
            var urls = root.Path("data", "resultUrls").Urls("resultUrl", "url");
            return urls.Count == 0
                ? (null, "success callback without data.resultUrls")
                : (ProviderObservation.Completed(urls), null);
        }
        var message = root.Prop("msg").Str() ?? root.Prop("message").Str() ?? $"Kie reported code {code}";
        return (ProviderObservation.Failed($"kie_{code}", message), null);
    }

    public static StatusResult FromRecordInfo(JsonElement root)
    {
        var code = root.Prop("code").Int();
        if (code != 200) return new StatusResult(null, Problem: $"record-info answered code {code}: {root.Prop("msg").Str()}");
        var data = root.Prop("data");
        if (data is null) return new StatusResult(null, Problem: "record-info without data");
        var flag = data.Value.Prop("successFlag").Int();
        switch (flag)
        {
            case 0:
                return new StatusResult(ProviderObservation.Processing(null));
            case 1:
                return new StatusResult(ProviderObservation.Completed(ResultUrls(data.Value)));
            case 2 or 3:
                var message = data.Value.Prop("errorMessage").Str() ?? "Kie reported the generation failed";
                var errorCode = data.Value.Prop("errorCode").Str();
                return new StatusResult(ProviderObservation.Failed(errorCode is null ? $"kie_flag_{flag}" : $"kie_{errorCode}", message));
            default:
                // Kie documents more flags on other models' status pages (4: "generation succeeded but callback failed"):
                // result URLs mean the video exists, whatever the flag; without them the flag says nothing we know.
                var found = ResultUrls(data.Value);
                return found.Count > 0
                    ? new StatusResult(ProviderObservation.Completed(found))
                    : new StatusResult(null, Problem: $"record-info has unknown successFlag {flag}");
        }
    }

    private static IReadOnlyList<string> ResultUrls(JsonElement data)
    {
        var info = data.Prop("resultInfoJson");
        // Documented as an object; accept a JSON string too, as Kie does elsewhere (promptJson).
        if (info is { ValueKind: JsonValueKind.String } s && JsonRead.TryParse(s.GetString() ?? "", out var parsed)) info = parsed;
        return info?.Prop("resultUrls").Urls("resultUrl", "url") ?? [];
    }
}

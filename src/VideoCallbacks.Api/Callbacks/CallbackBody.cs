using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>A callback body read in provider-neutral terms. Observation null = not understood (Problem says why).</summary>
public sealed record CallbackBody(string? TaskId, ProviderObservation? Observation, string? Problem)
{
    /// <summary>Pure: the same bytes always read the same way, on receipt and on reprocessing.</summary>
    public static CallbackBody Read(string provider, string body)
    {
        if (!JsonRead.TryParse(body, out var root)) return new CallbackBody(null, null, "body is not a JSON object");
        var isKie = provider == ProviderNames.Kie;
        var taskId = isKie ? KieFormat.TaskId(root) : ApiframeFormat.TaskId(root);
        var (observation, problem) = isKie ? KieFormat.FromCallback(root) : ApiframeFormat.FromDocument(root);
        return new CallbackBody(taskId, observation, problem);
    }
}

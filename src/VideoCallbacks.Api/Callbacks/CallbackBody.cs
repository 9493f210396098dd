using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>A callback body read in provider-neutral terms. Observation null = not understood (Problem says why).</summary>
public sealed record CallbackBody(string? TaskId, ProviderObservation? Observation, string? Problem)
{
    /// <summary>Pure: the same bytes always read the same way, on receipt and on reprocessing.</summary>
    public static CallbackBody Read(ICallbackScheme scheme, string body) =>
        JsonRead.TryParse(body, out var root) ? scheme.Read(root) : new CallbackBody(null, null, "body is not a JSON object");
}

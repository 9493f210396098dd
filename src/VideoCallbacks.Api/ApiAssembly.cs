namespace VideoCallbacks.Api;

/// <summary>
/// Names this assembly for hosts and tests (WebApplicationFactory). .NET 10 makes every top-level
/// <c>Program</c> public, so the simulator's and the CLI's would be ambiguous with ours.
/// </summary>
public sealed class ApiAssembly;

using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VideoCallbacks.Simulator;

/// <summary>
/// Runs task timelines off the request thread and stops them with the host, so a test host
/// shutting down does not leave callbacks in flight.
/// </summary>
internal sealed class SimulatorBackground(ILogger<SimulatorBackground> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<int, Task> running = new();

    public void Run(string description, Func<CancellationToken, Task> work)
    {
        var token = stopping.Token;
        var task = Task.Run(
            async () =>
            {
                try
                {
                    await work(token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Host shutting down.
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "Simulator work '{Description}' failed", description);
                }
            },
            CancellationToken.None);
        running[task.Id] = task;
        _ = task.ContinueWith(t => running.TryRemove(t.Id, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await stopping.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // A racing shutdown (WebApplicationFactory and Program both stop the host) already disposed us, cancelling the work.
            return;
        }

        try
        {
            await Task.WhenAll(running.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown timeout reached; the remaining work observes the cancelled token.
        }
    }

    // Cancel, do not dispose (as BackgroundService does): under WebApplicationFactory the host can be
    // disposed by the app's own Run() while the factory's StopAsync is still calling StopAsync here.
    public void Dispose() => stopping.Cancel();
}

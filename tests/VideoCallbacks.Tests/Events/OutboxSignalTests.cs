using Microsoft.Extensions.Time.Testing;
using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Tests.Events;

/// <summary>The wake-up the relay, the event streams and the archiver wait on.</summary>
public sealed class OutboxSignalTests
{
    [Fact]
    public async Task A_notification_after_the_wake_up_was_taken_completes_the_wait_at_once()
    {
        var signal = new OutboxSignal([]);
        var time = new FakeTimeProvider();
        var next = signal.Next;

        signal.Notify(); // a commit while the worker is still looking for work

        var wait = OutboxSignal.WaitAsync(next, TimeSpan.FromMinutes(5), time, CancellationToken.None);
        Assert.True(wait.IsCompleted, "the wait should not sleep through a notification it was armed for");
        await wait;
    }

    [Fact]
    public async Task Without_a_notification_the_wait_ends_at_the_poll_interval()
    {
        var signal = new OutboxSignal([]);
        var time = new FakeTimeProvider();

        var wait = OutboxSignal.WaitAsync(signal.Next, TimeSpan.FromSeconds(1), time, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await wait;
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public void A_wake_up_taken_after_a_notification_waits_for_the_next_one()
    {
        var signal = new OutboxSignal([]);
        signal.Notify();
        var next = signal.Next;
        Assert.False(next.IsCompleted);
        signal.NotifyLocal();
        Assert.True(next.IsCompleted);
    }
}

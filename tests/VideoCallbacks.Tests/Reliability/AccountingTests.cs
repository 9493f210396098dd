using VideoCallbacks.Testing.Reliability;

namespace VideoCallbacks.Tests.Reliability;

/// <summary>The reliability suite's rule of what counts as lost (issue 14), on hand-made records.</summary>
public sealed class AccountingTests
{
    private static BrokerRecord KeptOnce(params string[] ids) => new(ids, ids, 0);

    [Fact]
    public void Every_acknowledged_observation_with_its_event_published_once_loses_nothing()
    {
        var sent = new[]
        {
            new SentObservation("j1", "j1:submitted", true),
            new SentObservation("j1", "j1:progress:40", true),
            new SentObservation("j1", "j1:completed", true),
        };

        var result = Accounting.Settle(sent, ["j1:submitted", "j1:progress:40", "j1:completed"], KeptOnce("j1:submitted", "j1:progress:40", "j1:completed"));

        Assert.True(result.Passed, string.Join("; ", result.Problems));
        Assert.Equal(0, result.Lost);
        Assert.Equal(3, result.ExpectedEvents);
        Assert.Equal(3, result.PublishedMessages);
    }

    [Fact]
    public void An_acknowledged_callback_without_its_event_is_lost()
    {
        var sent = new[] { new SentObservation("j1", "j1:submitted", true), new SentObservation("j1", "j1:completed", true) };

        var result = Accounting.Settle(sent, ["j1:submitted"], KeptOnce("j1:submitted"));

        Assert.Equal(1, result.MissingEvents);
        Assert.Equal(1, result.Lost);
        Assert.False(result.Passed);
        Assert.Contains(result.Problems, p => p.Contains("j1:completed", StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_callbacks_need_exactly_one_event_and_a_second_copy_of_it_is_lost()
    {
        var sent = new[]
        {
            new SentObservation("j1", "j1:completed", true),
            // A resend, and progress arriving after the final result: no news, so their event is the completion.
            new SentObservation("j1", "j1:completed", true),
            new SentObservation("j1", "j1:completed", true),
        };

        Assert.True(Accounting.Settle(sent, ["j1:completed"], KeptOnce("j1:completed")).Passed);

        var doubled = Accounting.Settle(sent, ["j1:completed", "j1:completed"], KeptOnce("j1:completed"));
        Assert.Equal(1, doubled.DoubledEvents);
        Assert.Equal(1, doubled.Lost);
    }

    [Fact]
    public void A_commit_whose_answer_was_lost_is_not_a_loss_but_must_still_be_published()
    {
        // The service committed, then died before answering: not acknowledged, so not owed, but once committed it must reach the broker.
        var sent = new[] { new SentObservation("j1", "j1:completed", false) };

        Assert.True(Accounting.Settle(sent, ["j1:completed"], KeptOnce("j1:completed")).Passed);
        Assert.True(Accounting.Settle(sent, [], KeptOnce()).Passed);

        var unpublished = Accounting.Settle(sent, ["j1:completed"], KeptOnce());
        Assert.Equal(1, unpublished.Unpublished);
        Assert.Equal(1, unpublished.Lost);
    }

    [Fact]
    public void Resends_the_broker_dropped_as_duplicates_are_fine_but_a_message_kept_twice_is_lost()
    {
        var sent = new[] { new SentObservation("j1", "j1:completed", true) };

        var dropped = Accounting.Settle(sent, ["j1:completed"], new BrokerRecord(["j1:completed"], ["j1:completed", "j1:completed"], 1));
        Assert.True(dropped.Passed, string.Join("; ", dropped.Problems));

        var keptTwice = Accounting.Settle(sent, ["j1:completed"], new BrokerRecord(["j1:completed", "j1:completed"], ["j1:completed", "j1:completed"], 0));
        Assert.Equal(1, keptTwice.PublishedTwice);
        Assert.Equal(1, keptTwice.Lost);
    }

    [Fact]
    public void Extra_sends_the_broker_did_not_drop_as_duplicates_fail_the_run()
    {
        var sent = new[] { new SentObservation("j1", "j1:completed", true) };

        var result = Accounting.Settle(sent, ["j1:completed"], new BrokerRecord(["j1:completed"], ["j1:completed", "j1:completed"], 0));

        Assert.Equal(0, result.Lost);
        Assert.False(result.Passed);
    }

    [Fact]
    public void Events_and_messages_nobody_reported_fail_the_run()
    {
        var sent = new[] { new SentObservation("j1", "j1:completed", true) };

        var made = Accounting.Settle(sent, ["j1:completed", "j2:completed"], KeptOnce("j1:completed", "j2:completed"));
        Assert.Equal(1, made.UnexplainedEvents);
        Assert.False(made.Passed);

        var stranger = Accounting.Settle(sent, ["j1:completed"], KeptOnce("j1:completed", "j3:completed"));
        Assert.Equal(1, stranger.UnexplainedMessages);
        Assert.False(stranger.Passed);
    }
}

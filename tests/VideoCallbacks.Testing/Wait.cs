namespace VideoCallbacks.Testing;

/// <summary>
/// The one way tests and tools wait for something: poll until a condition holds or a bound passes. The bound is
/// generous for a loaded, shared machine and is never a timing assertion.
/// </summary>
public static class Wait
{
    /// <summary>The suite's one default bound for "eventually".</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="probe"/> until <paramref name="condition"/> holds; fails with the last value if it never does.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (true)
        {
            var last = await probe();
            if (condition(last)) return last;
            if (DateTime.UtcNow > deadline) throw new WaitTimeoutException($"Timed out waiting for {what}; last value: {Describe(last)}");
            await Task.Delay(50);
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable items and not string => $"[{string.Join(", ", items.Cast<object?>().Take(50))}]",
        _ => value.ToString() ?? "",
    };
}

public sealed class WaitTimeoutException(string message) : Exception(message);

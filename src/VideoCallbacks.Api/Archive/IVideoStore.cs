namespace VideoCallbacks.Api.Archive;

/// <summary>Storage the service owns for result videos: a folder, or an Azure Blob container.</summary>
public interface IVideoStore
{
    string Name { get; }

    /// <summary>Starts writing one video under <paramref name="name"/> (<c>{jobId}/{index}{extension}</c>); nothing is visible until committed.</summary>
    Task<IVideoWriter> BeginAsync(string name, string contentType, CancellationToken cancellationToken);

    /// <summary>Answers a request for a stored video: the bytes (with Range), or a redirect to a short-lived link.</summary>
    Task<IResult> ServeAsync(string name, JobVideo video, CancellationToken cancellationToken);

    /// <summary>Removes every video of a job (<c>Archive:Retention</c>).</summary>
    Task DeleteJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Null when the store can be written; else what is wrong (readiness).</summary>
    Task<string?> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>One video being written: chunks in order, then commit; disposing without commit leaves nothing behind.</summary>
public interface IVideoWriter : IAsyncDisposable
{
    Task WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken);

    Task CommitAsync(string sha256, long bytes, CancellationToken cancellationToken);
}

/// <summary>The store could not be reached or written: the archive is retried later.</summary>
public sealed class VideoStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

public static class VideoNames
{
    /// <summary><c>{jobId}/{index}{extension}</c>, the blob name the contract fixes.</summary>
    public static string For(string jobId, int index, string contentType) => $"{jobId}/{index}{Extension(contentType)}";

    public static string Extension(string contentType) => contentType.ToLowerInvariant() switch
    {
        "video/mp4" => ".mp4",
        "video/quicktime" => ".mov",
        "video/webm" => ".webm",
        "video/x-matroska" => ".mkv",
        _ => ".bin",
    };
}

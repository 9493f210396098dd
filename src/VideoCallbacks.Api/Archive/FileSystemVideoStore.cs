using Microsoft.Net.Http.Headers;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// Videos in a folder (<c>Archive:Path</c>). A video is written to a temporary file beside its final name and renamed
/// on commit, so a crash never leaves a partial video under a name that is served.
/// </summary>
public sealed class FileSystemVideoStore(string root) : IVideoStore
{
    private readonly string _root = Path.GetFullPath(root);

    public string Name => ArchiveStores.FileSystem;

    public Task<IVideoWriter> BeginAsync(string name, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = $"{path}.{Guid.NewGuid():N}.partial";
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            return Task.FromResult<IVideoWriter>(new Writer(stream, temp, path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VideoStoreUnavailableException($"cannot write under {_root}: {e.Message}", e);
        }
    }

    public Task<IResult> ServeAsync(string name, JobVideo video, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return Task.FromResult<IResult>(Infrastructure.Problems.NotFound("No such video.", "The stored video is missing."));
        var etag = video.Sha256 is null ? null : new EntityTagHeaderValue($"\"{video.Sha256}\"");
        return Task.FromResult<IResult>(TypedResults.PhysicalFile(path, video.ContentType ?? "application/octet-stream",
            entityTag: etag, enableRangeProcessing: true));
    }

    public Task DeleteJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var folder = PathOf(jobId);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        return Task.CompletedTask;
    }

    public Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(_root);
            var probe = Path.Combine(_root, $".probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return Task.FromResult<string?>(null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult<string?>($"{_root} is not writable: {e.Message}");
        }
    }

    /// <summary>Names come from job ids and indexes only; anything that would leave the root is refused.</summary>
    private string PathOf(string name)
    {
        var path = Path.GetFullPath(Path.Combine(_root, name));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new ArgumentException($"'{name}' is not a video name", nameof(name));
        return path;
    }

    private sealed class Writer(FileStream stream, string temp, string path) : IVideoWriter
    {
        /// <summary>
        /// How much of a video may sit unwritten in the page cache. Without a bound, gigabytes of dirty video pile up
        /// and the database's own commit fsync waits behind their write-back (measured: 1.4 s ingest stalls while
        /// 4 downloads ran unpaced, docs/benchmarks.md).
        /// </summary>
        private const long SyncEvery = 8 * 1024 * 1024;

        private bool _committed;
        private long _unsynced;

        public async Task WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            try
            {
                await stream.WriteAsync(chunk, cancellationToken);
                _unsynced += chunk.Length;
                if (_unsynced >= SyncEvery)
                {
                    _unsynced = 0;
                    await stream.FlushAsync(cancellationToken);
                    // .NET has no asynchronous fsync; this keeps the blocking call off the caller's continuation.
                    await Task.Run(() => stream.Flush(flushToDisk: true), cancellationToken);
                }
            }
            catch (IOException e)
            {
                throw new VideoStoreUnavailableException($"cannot write {path}: {e.Message}", e);
            }
        }

        public async Task CommitAsync(string sha256, long bytes, CancellationToken cancellationToken)
        {
            try
            {
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
                await stream.DisposeAsync();
                File.Move(temp, path, overwrite: true);
                _committed = true;
            }
            catch (IOException e)
            {
                throw new VideoStoreUnavailableException($"cannot store {path}: {e.Message}", e);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            if (!_committed)
            {
                try { File.Delete(temp); } catch (IOException) { }
            }
        }
    }
}

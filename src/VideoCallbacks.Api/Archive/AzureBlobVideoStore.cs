using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// Videos in an Azure Blob container (official SDK). A video is staged as blocks of a few MiB as it downloads and
/// committed with its content type and SHA-256 in one call, so memory stays bounded and an unfinished upload is never
/// a visible blob. Links are read-only SAS: signed with the account key from a connection string, or a user-delegation
/// key when the service signs in with Entra ID (shared-key access can then stay off).
/// </summary>
public sealed class AzureBlobVideoStore : IVideoStore, IDisposable
{
    /// <summary>Block size: 4 MiB, so 4 concurrent archives hold 16 MiB of buffers at most.</summary>
    public const int BlockBytes = 4 * 1024 * 1024;

    private readonly BlobServiceClient _service;
    private readonly BlobContainerClient _container;
    private readonly AzureBlobArchiveOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _delegationLock = new(1, 1);
    private UserDelegationKey? _delegationKey;
    private volatile bool _containerReady;

    public AzureBlobVideoStore(AzureBlobArchiveOptions options, TimeProvider time, TokenCredential? credential = null)
    {
        _options = options;
        _time = time;
        var clientOptions = new BlobClientOptions { Retry = { MaxRetries = 2, NetworkTimeout = TimeSpan.FromSeconds(100) } };
        _service = !string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new BlobServiceClient(options.ConnectionString, clientOptions)
            : new BlobServiceClient(options.ServiceUri, credential ?? new DefaultAzureCredential(), clientOptions);
        _container = _service.GetBlobContainerClient(options.Container);
    }

    public string Name => ArchiveStores.AzureBlob;

    public void Dispose() => _delegationLock.Dispose();

    public async Task<IVideoWriter> BeginAsync(string name, string contentType, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        return new Writer(_container.GetBlockBlobClient(name), contentType);
    }

    public async Task<IResult> ServeAsync(string name, JobVideo video, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(name);
        try
        {
            if (_options.Redirect) return TypedResults.Redirect((await ReadLinkAsync(blob, cancellationToken)).ToString());
            var stream = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
            var etag = video.Sha256 is null ? null : new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{video.Sha256}\"");
            return TypedResults.Stream(stream, video.ContentType ?? "application/octet-stream", entityTag: etag, enableRangeProcessing: true);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return Infrastructure.Problems.NotFound("No such video.", "The stored video is missing from the container.");
        }
    }

    public async Task DeleteJobAsync(string jobId, CancellationToken cancellationToken)
    {
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = jobId + "/" }, cancellationToken))
        {
            await _container.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken);
        }
    }

    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A real round trip each time: the cached "container exists" would hide an outage that began later.
            if (!_containerReady) await EnsureContainerAsync(cancellationToken);
            else await _container.GetPropertiesAsync(cancellationToken: cancellationToken);
            return null;
        }
        catch (VideoStoreUnavailableException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or HttpRequestException or AggregateException)
        {
            return $"Azure Blob container '{_options.Container}' is unavailable: {Describe(e)}";
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerReady) return;
        try
        {
            await _container.CreateIfNotExistsAsync(PublicAccessType.None, cancellationToken: cancellationToken);
            _containerReady = true;
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or HttpRequestException or AggregateException)
        {
            throw new VideoStoreUnavailableException($"Azure Blob container '{_options.Container}' is unavailable: {Describe(e)}", e);
        }
    }

    private async Task<Uri> ReadLinkAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        var expires = _time.GetUtcNow() + _options.SasLifetime;
        var sas = new BlobSasBuilder(BlobSasPermissions.Read, expires) { BlobContainerName = blob.BlobContainerName, BlobName = blob.Name, Resource = "b" };
        if (blob.CanGenerateSasUri) return blob.GenerateSasUri(sas);
        var key = await DelegationKeyAsync(expires, cancellationToken);
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, _service.AccountName) }.ToUri();
    }

    /// <summary>One user-delegation key serves many links: asked for a day at a time, renewed when it would not cover a link.</summary>
    private async Task<UserDelegationKey> DelegationKeyAsync(DateTimeOffset needUntil, CancellationToken cancellationToken)
    {
        if (_delegationKey is { } current && current.SignedExpiresOn > needUntil) return current;
        await _delegationLock.WaitAsync(cancellationToken);
        try
        {
            if (_delegationKey is { } again && again.SignedExpiresOn > needUntil) return again;
            var now = _time.GetUtcNow();
            _delegationKey = (await _service.GetUserDelegationKeyAsync(now.AddMinutes(-5), now.AddDays(1) + _options.SasLifetime, cancellationToken)).Value;
            return _delegationKey;
        }
        finally
        {
            _delegationLock.Release();
        }
    }

    private static string Describe(Exception e) => e is RequestFailedException r ? $"{r.Status} {r.ErrorCode}" : e.GetBaseException().Message;

    private sealed class Writer(BlockBlobClient blob, string contentType) : IVideoWriter
    {
        private readonly byte[] _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BlockBytes);
        private readonly List<string> _blocks = [];
        private int _filled;

        public async Task WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            while (chunk.Length > 0)
            {
                var take = Math.Min(chunk.Length, BlockBytes - _filled);
                chunk[..take].CopyTo(_buffer.AsMemory(_filled));
                _filled += take;
                chunk = chunk[take..];
                if (_filled == BlockBytes) await StageAsync(cancellationToken);
            }
        }

        public async Task CommitAsync(string sha256, long bytes, CancellationToken cancellationToken)
        {
            if (_filled > 0 || _blocks.Count == 0) await StageAsync(cancellationToken);
            try
            {
                await blob.CommitBlockListAsync(_blocks, new CommitBlockListOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                    Metadata = new Dictionary<string, string> { ["sha256"] = sha256, ["bytes"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                }, cancellationToken);
            }
            catch (Exception e) when (e is RequestFailedException or HttpRequestException or AuthenticationFailedException)
            {
                throw new VideoStoreUnavailableException($"Azure Blob commit of {blob.Name} failed: {Describe(e)}", e);
            }
        }

        private async Task StageAsync(CancellationToken cancellationToken)
        {
            // Fixed-length ids: a blob's block ids must all have the same length.
            var id = Convert.ToBase64String(BitConverter.GetBytes((long)_blocks.Count));
            try
            {
                using var content = new MemoryStream(_buffer, 0, _filled, writable: false);
                await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is RequestFailedException or HttpRequestException or AuthenticationFailedException)
            {
                throw new VideoStoreUnavailableException($"Azure Blob upload of {blob.Name} failed: {Describe(e)}", e);
            }
            _blocks.Add(id);
            _filled = 0;
        }

        // Uncommitted blocks are never visible and the service discards them after a week.
        public ValueTask DisposeAsync()
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            return ValueTask.CompletedTask;
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Archive;

/// <summary>Why one video could not be stored; <c>Permanent</c> ones are not retried.</summary>
public sealed record ArchiveFailure(string Code, string Message, bool Permanent);

public sealed class ArchiveFailedException(ArchiveFailure failure) : Exception(failure.Message)
{
    public ArchiveFailure Failure { get; } = failure;
}

public static class ArchiveErrors
{
    public const string NotFound = "archive_not_found";
    public const string TooLarge = "archive_too_large";
    public const string ContentType = "archive_content_type";
    public const string RefusedAddress = "archive_refused_address";
    public const string GaveUp = "archive_gave_up";
    /// <summary>Not a contract code: a transient failure (retried until <c>Archive:GiveUpAfter</c>, then <see cref="GaveUp"/>).</summary>
    public const string Transient = "archive_transient";
}

/// <summary>
/// Downloads one video and streams it into the store: never a whole video in memory, SHA-256 and size counted as the
/// bytes pass. Only http(s); redirects followed by hand (at most 3), each hop's scheme checked and each connection's
/// address checked by the handler (<see cref="AddressGuard"/>); <c>Archive:MaxBytes</c> enforced on the declared length
/// and on the bytes actually read. No credential of any provider is ever sent.
/// </summary>
public sealed class VideoDownloader(IHttpClientFactory http, IOptions<ArchiveOptions> options, ArchiveBandwidth bandwidth)
{
    public const string ClientName = "archive";
    public const int MaxRedirects = 3;

    private static readonly string[] AcceptedTypes = ["application/octet-stream", "binary/octet-stream"];

    public async Task<JobVideo> ArchiveAsync(string jobId, int index, string url, IVideoStore store, Func<string, int, string> durableUrl, CancellationToken ct)
    {
        var o = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.DownloadTimeout);
        try
        {
            using var response = await GetFollowingRedirectsAsync(url, timeout.Token);
            var status = (int)response.StatusCode;
            if (status is 404 or 410) throw Fail(ArchiveErrors.NotFound, $"the provider's URL answered {status}: the video is gone", permanent: true);
            if (status is 408 or 425 or 429 || status >= 500) throw Fail(ArchiveErrors.Transient, $"the provider's CDN answered {status}", permanent: false);
            if (status is < 200 or >= 300) throw Fail(ArchiveErrors.NotFound, $"the provider's URL answered {status}", permanent: true);

            var contentType = response.Content.Headers.ContentType?.MediaType?.ToLowerInvariant() ?? "application/octet-stream";
            if (!contentType.StartsWith("video/", StringComparison.Ordinal) && !AcceptedTypes.Contains(contentType))
            {
                throw Fail(ArchiveErrors.ContentType, $"the provider's URL serves '{contentType}', not a video", permanent: true);
            }
            if (response.Content.Headers.ContentLength is { } declared && declared > o.MaxBytes)
            {
                throw Fail(ArchiveErrors.TooLarge, $"the video is {declared} bytes, more than Archive:MaxBytes ({o.MaxBytes})", permanent: true);
            }
            // Octet streams are stored as MP4: every provider here makes MP4, and players need a video type.
            var storedType = contentType.StartsWith("video/", StringComparison.Ordinal) ? contentType : "video/mp4";
            var name = VideoNames.For(jobId, index, storedType);
            await using var writer = await store.BeginAsync(name, storedType, timeout.Token);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
            long total = 0;
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
                int read;
                while ((read = await body.ReadAsync(buffer, timeout.Token)) > 0)
                {
                    await bandwidth.TakeAsync(read, timeout.Token);
                    total += read;
                    if (total > o.MaxBytes) throw Fail(ArchiveErrors.TooLarge, $"the video is more than Archive:MaxBytes ({o.MaxBytes}) bytes", permanent: true);
                    hash.AppendData(buffer, 0, read);
                    await writer.WriteAsync(buffer.AsMemory(0, read), timeout.Token);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            await writer.CommitAsync(sha256, total, timeout.Token);
            return new JobVideo(index, durableUrl(jobId, index), url, sha256, total, storedType);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Fail(ArchiveErrors.Transient, $"the download took longer than Archive:DownloadTimeout ({o.DownloadTimeout})", permanent: false);
        }
        catch (HttpRequestException e) when (e.InnerException is RefusedAddressException refused)
        {
            throw Fail(ArchiveErrors.RefusedAddress, refused.Message, permanent: true);
        }
        catch (HttpRequestException e)
        {
            throw Fail(ArchiveErrors.Transient, $"the download failed: {e.GetBaseException().Message}", permanent: false);
        }
        catch (IOException e)
        {
            throw Fail(ArchiveErrors.Transient, $"the download broke off: {e.Message}", permanent: false);
        }
    }

    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(string url, CancellationToken ct)
    {
        var client = http.CreateClient(ClientName);
        var target = CheckScheme(url);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("video/*"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*", 0.5));
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308)) return response;
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null) throw Fail(ArchiveErrors.NotFound, "the provider's URL redirects nowhere", permanent: true);
            if (hop == MaxRedirects) throw Fail(ArchiveErrors.RefusedAddress, $"more than {MaxRedirects} redirects", permanent: true);
            target = CheckScheme((location.IsAbsoluteUri ? location : new Uri(target, location)).ToString());
        }
    }

    private static Uri CheckScheme(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw Fail(ArchiveErrors.RefusedAddress, "only http and https URLs are downloaded", permanent: true);
        }
        return uri;
    }

    private static ArchiveFailedException Fail(string code, string message, bool permanent) => new(new ArchiveFailure(code, message, permanent));

    /// <summary>
    /// The handler behind <see cref="ClientName"/>: no automatic redirects (each hop is checked here), no cookies, no
    /// proxy, and a connect callback that resolves the name and refuses addresses <see cref="AddressGuard"/> refuses
    /// before a connection is opened.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivateAddresses) =>
        CreateHandler(allowPrivateAddresses ? _ => null : endpoint => AddressGuard.Refusal(endpoint.Address));

    /// <param name="refusal">Null when a connection to the endpoint may be opened; else why not.</param>
    public static SocketsHttpHandler CreateHandler(Func<IPEndPoint, string?> refusal) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            // Every address is checked before any is tried, so a name with one private address among public ones is refused.
            foreach (var address in addresses)
            {
                if (refusal(new IPEndPoint(address, context.DnsEndPoint.Port)) is { } why)
                {
                    throw new RefusedAddressException($"{host} resolves to {address}, a {why} address; downloads reach public addresses only");
                }
            }
            Exception? last = null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    last = e;
                }
            }
            throw last ?? new SocketException((int)SocketError.HostNotFound);
        },
    };
}

namespace Roto.Core.Net;

/// <summary>Fetches a user's URL to a file with a size cap and a deadline; every failure names the field.</summary>
public sealed class Downloader(OutboundHttp http)
{
    public sealed record Result(string Path, long Size, string? ContentType);

    public async Task<Result> DownloadAsync(string field, string url, string destination, long maxBytes, TimeSpan timeout, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw KlingError.Invalid($"{field} must be an http or https URL");

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.Client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
                throw KlingError.Invalid($"{field} could not be downloaded: the server answered HTTP {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > maxBytes)
                throw KlingError.Invalid($"{field} is larger than the limit of {maxBytes / (1024 * 1024)} MB");
            await using var source = await response.Content.ReadAsStreamAsync(deadline.Token);
            await using (var target = File.Create(destination))
            {
                var buffer = new byte[81920];
                long total = 0;
                int n;
                while ((n = await source.ReadAsync(buffer, deadline.Token)) > 0)
                {
                    total += n;
                    if (total > maxBytes) throw KlingError.Invalid($"{field} is larger than the limit of {maxBytes / (1024 * 1024)} MB");
                    await target.WriteAsync(buffer.AsMemory(0, n), deadline.Token);
                }
            }
            return new Result(destination, new FileInfo(destination).Length, response.Content.Headers.ContentType?.MediaType);
        }
        catch (Exception ex) when (ex is not KlingError)
        {
            Storage.TempFiles.TryDelete(destination);
            if (OutboundHttp.IsBlocked(ex)) throw KlingError.Invalid($"{field} points to an address that is not allowed (loopback, private or link-local network)");
            if (ex is OperationCanceledException && !ct.IsCancellationRequested)
                throw KlingError.Invalid($"{field} could not be downloaded within {timeout.TotalSeconds:0} s");
            if (ex is HttpRequestException or IOException)
                throw KlingError.Invalid($"{field} could not be downloaded: {ex.Message}");
            throw;
        }
        catch
        {
            Storage.TempFiles.TryDelete(destination);
            throw;
        }
    }
}

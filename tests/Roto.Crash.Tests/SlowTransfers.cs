using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Roto.Crash.Tests;

/// <summary>
/// A loopback HTTP source that sends the first half of a file and then stalls, so a <c>video_url</c> download is
/// certainly in progress when the server is killed.
/// </summary>
public sealed class StallingSource : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StallingSource(string file)
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/{Path.GetFileName(file)}";
        _ = ServeAsync(File.ReadAllBytes(file));
    }

    public string Url { get; }
    public Task HalfSent => _halfSent.Task;

    private async Task ServeAsync(byte[] bytes)
    {
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            await using var stream = client.GetStream();
            var request = new byte[8192];
            _ = await stream.ReadAsync(request, _stop.Token);
            var head = $"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
            for (var sent = 0; sent < bytes.Length / 2; sent += 16 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(sent, Math.Min(16 * 1024, bytes.Length / 2 - sent)), _stop.Token);
                await Task.Delay(20, _stop.Token);
            }
            _halfSent.TrySetResult();
            await Task.Delay(Timeout.Infinite, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
            _halfSent.TrySetCanceled();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>
/// A multipart file part sent in chunks (chunked transfer encoding): the first half quickly, then nothing more, so
/// the upload is certainly in progress when the server is killed.
/// </summary>
public sealed class StallingFileContent(byte[] bytes) : HttpContent
{
    private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task HalfSent => _halfSent.Task;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var sent = 0; sent < bytes.Length / 2; sent += 16 * 1024)
        {
            await stream.WriteAsync(bytes.AsMemory(sent, Math.Min(16 * 1024, bytes.Length / 2 - sent)));
            await stream.FlushAsync();
            await Task.Delay(20);
        }
        _halfSent.TrySetResult();
        // Stall until the server dies under us (the request then fails, which is what the test expects).
        await Task.Delay(TimeSpan.FromMinutes(2));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

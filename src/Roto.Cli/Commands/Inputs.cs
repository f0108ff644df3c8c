using Roto.Client;

namespace Roto.Cli.Commands;

/// <summary>Turns what the user named (a local file or a URL) into a URL the server accepts.</summary>
internal static class Inputs
{
    public static async Task<UploadResult> UploadAsync(CliSession session, string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) throw new CliUsageException($"no such file: {path}");
        session.Note($"Uploading {Path.GetFileName(path)} ({new FileInfo(path).Length / 1024.0 / 1024.0:0.0} MiB)");
        return await session.Client.UploadFileAsync(path, cancellationToken);
    }

    /// <summary>A local file is uploaded first; an http(s) URL is passed through.</summary>
    public static async Task<string> ToUrlAsync(CliSession session, string fileOrUrl, CancellationToken cancellationToken)
    {
        Check(fileOrUrl);
        return File.Exists(fileOrUrl) ? (await UploadAsync(session, fileOrUrl, cancellationToken)).Url : fileOrUrl;
    }

    /// <summary>Refuses what is neither an existing file nor an http(s) URL.</summary>
    public static void Check(string fileOrUrl)
    {
        if (File.Exists(fileOrUrl) || (Uri.TryCreate(fileOrUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")) return;
        throw new CliUsageException($"'{fileOrUrl}' is neither an existing file nor an http(s) URL");
    }

    public static void DescribeSession(CliSession session, InitSelectionResult init) =>
        session.Note($"Session {init.SessionId}: {init.Width}x{init.Height}, {init.Fps:0.##} fps, {init.TotalFrame} frames, {init.OriginalDuration / 1000.0:0.##} s");
}

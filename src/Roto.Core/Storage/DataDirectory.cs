using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Roto.Core.Storage;

/// <summary>The data directory and the secrets Roto generates into it on first start.</summary>
public sealed class DataDirectory
{
    public DataDirectory(IOptions<RotoOptions> options)
    {
        Path = System.IO.Path.GetFullPath(options.Value.DataDir);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Reads a random secret of <paramref name="bytes"/> bytes from a file, creating it (owner-only) if missing.</summary>
    public byte[] Secret(string fileName, int bytes) =>
        Convert.FromBase64String(TextSecret(fileName, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes))));

    /// <summary>
    /// Reads a text secret from a file, creating it with <paramref name="create"/> if missing. Processes that start
    /// together on one data directory all end up with the same secret: each writes its candidate to a file of its
    /// own and moves it into place only if no secret is there yet, and whoever loses reads the winner's.
    /// </summary>
    public string TextSecret(string fileName, Func<string> create)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(tmp, create());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            // Without overwrite, .NET moves with link(2) then unlink on Unix: the name appears complete or not at all,
            // and the move fails if another process placed its secret first.
            File.Move(tmp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(tmp);
        }
        return File.ReadAllText(path).Trim();
    }
}

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
    public byte[] Secret(string fileName, int bytes)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        var secret = RandomNumberGenerator.GetBytes(bytes);
        WriteOwnerOnly(path, Convert.ToBase64String(secret));
        return secret;
    }

    /// <summary>Reads a text secret from a file, creating it with <paramref name="create"/> if missing.</summary>
    public string TextSecret(string fileName, Func<string> create)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var value = create();
        WriteOwnerOnly(path, value);
        return value;
    }

    private static void WriteOwnerOnly(string path, string content)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }
}

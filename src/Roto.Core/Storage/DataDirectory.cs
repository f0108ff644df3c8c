using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Roto.Core.Storage;

/// <summary>The data directory and the secrets Roto generates into it on first start.</summary>
public sealed partial class DataDirectory
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
        if (!PlaceOnce(tmp, path)) File.Delete(tmp);
        return File.ReadAllText(path).Trim();
    }

    /// <summary>
    /// Gives <paramref name="tmp"/> the name <paramref name="path"/> unless that name exists; false if it did.
    /// On Unix this is link(2) itself, which fails atomically when the name exists. File.Move without overwrite
    /// falls back to checking and then renaming where link fails, and two processes can both win that race.
    /// </summary>
    private static bool PlaceOnce(string tmp, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try { File.Move(tmp, path, overwrite: false); return true; }
            catch (IOException) when (File.Exists(path)) { return false; }
        }
        if (Link(tmp, path) == 0)
        {
            File.Delete(tmp);
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EExist) return false;
        throw new IOException($"Cannot place the secret file {path}: link failed with errno {errno}.");
    }

    private const int EExist = 17;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string created);
}

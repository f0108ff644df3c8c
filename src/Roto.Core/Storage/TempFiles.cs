namespace Roto.Core.Storage;

/// <summary>Scratch files are cleaned up on a best-effort basis: what cannot be deleted now, the sweeper removes later.</summary>
public static class TempFiles
{
    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

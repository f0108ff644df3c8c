namespace Roto.Vision.Learned;

/// <summary>The models folder: configured, else <c>ROTO_MODELS_DIR</c>, else the per-user cache that <c>scripts/models.sh</c> fills.</summary>
public static class ModelsDir
{
    public static string Resolve(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        if (Environment.GetEnvironmentVariable("ROTO_MODELS_DIR") is { Length: > 0 } fromEnvironment) return Path.GetFullPath(fromEnvironment);
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "roto", "models");
    }
}

namespace Roto.Studio.Tests;

/// <summary>Where the Studio tests leave their screenshots: $ROTO_ARTIFACTS/studio, else TestResults/studio in the output folder.</summary>
public static class Artifacts
{
    public static string Dir { get; } = Create();

    public static string File(string name) => Path.Combine(Dir, name);

    private static string Create()
    {
        var root = Environment.GetEnvironmentVariable("ROTO_ARTIFACTS") is { Length: > 0 } env
            ? env
            : Path.Combine(AppContext.BaseDirectory, "TestResults");
        var dir = Path.Combine(root, "studio");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

using Roto.Core.Files;

namespace Roto.Server.Apis;

/// <summary>GET /files/{key}?exp=&amp;sig=: the files Roto hands out, behind signed, expiring URLs. Range requests work (video seeking).</summary>
public static class FilesApi
{
    public static void MapFilesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/files/{**key}", ServeAsync).WithTags("Files").ExcludeFromDescription();
    }

    private static async Task<IResult> ServeAsync(string key, string? exp, string? sig, FileService files, CancellationToken ct)
    {
        var file = await files.OpenAsync(key, exp, sig, ct);
        return Results.Stream(file.Content, file.ContentType, lastModified: file.LastModified, enableRangeProcessing: true);
    }
}

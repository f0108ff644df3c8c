using Microsoft.EntityFrameworkCore;
using Roto.Core;
using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Server.Apis;

/// <summary>GET /files/{key}?exp=&amp;sig=: the files Roto hands out, behind signed, expiring URLs. Range requests work (video seeking).</summary>
public static class FilesApi
{
    public static void MapFilesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/files/{**key}", ServeAsync).WithTags("Files").ExcludeFromDescription();
    }

    private static async Task<IResult> ServeAsync(string key, string? exp, string? sig, FileStore files, RotoDb db, CancellationToken ct)
    {
        if (!files.Verify(key, exp, sig)) throw KlingError.NotFound("the file does not exist or its link has expired");
        var path = files.PathOf(key);
        var record = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Key == key, ct);
        if (record == null || !File.Exists(path)) throw KlingError.NotFound("the file does not exist or its link has expired");
        return Results.File(path, record.ContentType, enableRangeProcessing: true);
    }
}

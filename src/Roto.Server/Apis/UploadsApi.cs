using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Core.Data;
using Roto.Core.Ingest;
using Roto.Core.Storage;
using Roto.Media;
using Roto.Server.Auth;
using Roto.Server.Wire;

namespace Roto.Server.Apis;

/// <summary>POST /v1/uploads: a file (multipart field "file") whose URL can be used as video_url or in image_list.</summary>
public static class UploadsApi
{
    public static void MapUploadsApi(this IEndpointRouteBuilder app, string prefix)
    {
        app.MapPost($"{prefix}/uploads", UploadAsync).WithTags("Uploads").DisableAntiforgery()
            .Accepts<IFormFile>("multipart/form-data").Produces<Envelope<UploadData>>();
    }

    private static async Task<IResult> UploadAsync(HttpContext http, RotoDb db, FileStore files, IOptions<RotoOptions> options, CancellationToken ct)
    {
        var limits = options.Value.Limits;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limits.MaxUploadBytes + 64 * 1024;
        if (!http.Request.HasFormContentType || !(http.Request.ContentType?.Contains("multipart/form-data") ?? false))
            throw KlingError.Invalid("the upload must be multipart/form-data with a field named file");

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limits.MaxUploadBytes, ValueCountLimit = 16 }, ct);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            throw new KlingError(KlingCodes.BadRequest, $"the multipart body is malformed: {ex.Message}");
        }
        var file = form.Files.GetFile("file") ?? throw KlingError.Invalid("file is required (multipart field \"file\")");
        if (file.Length == 0) throw KlingError.Invalid("file is empty");
        if (file.Length > limits.MaxUploadBytes) throw KlingError.Invalid($"file is larger than {limits.MaxUploadBytes / (1024 * 1024)} MB");

        var head = new byte[64 * 1024];
        int headLength;
        await using (var s = file.OpenReadStream()) headLength = await s.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        var image = ImageHeader.Read(head.AsSpan(0, headLength));
        if (image != null)
        {
            // Refuse decompression bombs now, before anyone decodes them.
            if ((long)image.Width * image.Height > ReferenceImages.MaxPixels || image.Width <= 0 || image.Height <= 0)
                throw KlingError.Invalid($"file claims {image.Width}×{image.Height} pixels, more than Roto decodes");
        }
        var extension = image != null ? (image.Format == "png" ? ".png" : ".jpg") : SafeExtension(file.FileName);
        var contentType = image != null ? $"image/{image.Format}" : extension == ".mov" ? "video/quicktime" : "video/mp4";

        files.EnsureFreeSpace(file.Length);
        var uploadId = Ids.New();
        var temp = files.TempPath(extension);
        try
        {
            await using (var target = File.Create(temp))
            await using (var source = file.OpenReadStream())
                await source.CopyToAsync(target, ct);
            var key = FileStore.NewKey("upload", uploadId, extension);
            var record = await files.AdoptAsync(db, temp, key, ApiGate.AccountOf(http), "upload", uploadId, contentType, options.Value.UploadLifetime, ct);
            var url = MultiElementsApi.FileUrl(http, files, key, record.ExpiresAt);
            return Envelopes.Ok(http, new UploadData(uploadId, url, record.Size, contentType));
        }
        finally
        {
            FileStore.TryDelete(temp);
        }
    }

    private static string SafeExtension(string? name)
    {
        var ext = Path.GetExtension(name ?? "").ToLowerInvariant();
        return ext is ".mp4" or ".mov" or ".m4v" or ".mkv" or ".webm" or ".avi" ? ext : ".bin";
    }
}

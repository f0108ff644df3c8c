using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
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

        // The body is streamed straight into this process's temporary folder instead of through ReadFormAsync, whose
        // buffer file lives in ASPNETCORE_TEMP, outside the data directory, where a killed process would leave it.
        files.EnsureFreeSpace(http.Request.ContentLength ?? 0);
        var temp = files.TempPath(".part");
        try
        {
            await ReceiveFileAsync(http, temp, limits.MaxUploadBytes, ct);
            var length = new FileInfo(temp).Length;
            if (length == 0) throw KlingError.Invalid("file is empty");

            var head = new byte[64 * 1024];
            int headLength;
            await using (var s = File.OpenRead(temp)) headLength = await s.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
            // Labelled by its bytes, not by the name or type its sender gave it: a text file named clip.mp4 is text.
            var kind = FileSniffer.Sniff(head.AsSpan(0, headLength))
                ?? throw KlingError.Invalid($"file is {FileSniffer.Describe(head.AsSpan(0, headLength))}, not {FileSniffer.Accepted}");
            var image = ImageHeader.Read(head.AsSpan(0, headLength));
            if (image != null)
            {
                // Refuse decompression bombs now, before anyone decodes them.
                if ((long)image.Width * image.Height > ReferenceImages.MaxPixels || image.Width <= 0 || image.Height <= 0)
                    throw KlingError.Invalid($"file claims {image.Width}×{image.Height} pixels, more than Roto decodes");
            }
            var (extension, contentType) = (kind.Extension, kind.ContentType);

            var uploadId = Ids.New();
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

    /// <summary>Copies the multipart field "file" to <paramref name="target"/>, at most <paramref name="maxBytes"/>.</summary>
    private static async Task ReceiveFileAsync(HttpContext http, string target, long maxBytes, CancellationToken ct)
    {
        var boundary = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) ? HeaderUtilities.RemoveQuotes(type.Boundary).Value : null;
        if (string.IsNullOrWhiteSpace(boundary)) throw new KlingError(KlingCodes.BadRequest, "the multipart body is malformed: no boundary");
        var reader = new MultipartReader(boundary, http.Request.Body);
        try
        {
            for (var fields = 0; await reader.ReadNextSectionAsync(ct) is { } section; fields++)
            {
                if (fields >= 16) throw new KlingError(KlingCodes.BadRequest, "the multipart body has too many fields");
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.IsFileDisposition() || disposition.Name.Value?.Trim('"') != "file")
                    continue;
                await using var output = File.Create(target);
                var buffer = new byte[81920];
                long total = 0;
                int n;
                while ((n = await section.Body.ReadAsync(buffer, ct)) > 0)
                {
                    total += n;
                    if (total > maxBytes) throw KlingError.Invalid($"file is larger than {maxBytes / (1024 * 1024)} MB");
                    await output.WriteAsync(buffer.AsMemory(0, n), ct);
                }
                return;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            throw new KlingError(KlingCodes.BadRequest, $"the multipart body is malformed: {ex.Message}");
        }
        throw KlingError.Invalid("file is required (multipart field \"file\")");
    }
}

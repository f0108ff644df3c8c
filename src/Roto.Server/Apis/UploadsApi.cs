using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Core.Storage;
using Roto.Core.Uploads;
using Roto.Server.Auth;
using Roto.Server.Wire;

namespace Roto.Server.Apis;

/// <summary>POST /v1/uploads: a file (multipart field "file") whose URL can be used as video_url or in image_list.</summary>
public static class UploadsApi
{
    public static void MapUploadsApi(this IEndpointRouteBuilder app, string prefix)
    {
        app.MapPost($"{prefix}/uploads", UploadAsync).WithTags("Uploads").DisableAntiforgery()
            .Accepts<UploadRequest>("multipart/form-data").Produces<Envelope<UploadData>>();
    }

    private static async Task<IResult> UploadAsync(HttpContext http, UploadService uploads, FileStore files, IOptions<RotoOptions> options, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = options.Value.Limits.MaxUploadBytes + 64 * 1024;
        if (!http.Request.HasFormContentType || !(http.Request.ContentType?.Contains("multipart/form-data") ?? false))
            throw KlingError.Invalid("the upload must be multipart/form-data with a field named file");

        // The field is streamed straight to Core instead of through ReadFormAsync, whose buffer file lives in
        // ASPNETCORE_TEMP, outside the data directory, where a killed process would leave it.
        var field = await FileFieldAsync(http, ct);
        var upload = await uploads.StoreAsync(ApiGate.AccountOf(http), new MultipartFieldStream(field, ct), http.Request.ContentLength, ct);
        var url = MultiElementsApi.FileUrl(http, files, upload.Key, upload.ExpiresAt);
        return Envelopes.Ok(http, new UploadData(upload.UploadId, url, upload.Size, upload.ContentType));
    }

    /// <summary>The body of the multipart field "file", positioned at its first byte.</summary>
    private static async Task<Stream> FileFieldAsync(HttpContext http, CancellationToken ct)
    {
        var boundary = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) ? HeaderUtilities.RemoveQuotes(type.Boundary).Value : null;
        if (string.IsNullOrWhiteSpace(boundary)) throw new KlingError(KlingCodes.BadRequest, "the multipart body is malformed: no boundary");
        var reader = new MultipartReader(boundary, http.Request.Body);
        try
        {
            for (var fields = 0; await reader.ReadNextSectionAsync(ct) is { } section; fields++)
            {
                if (fields >= 16) throw new KlingError(KlingCodes.BadRequest, "the multipart body has too many fields");
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.IsFileDisposition() && disposition.Name.Value?.Trim('"') == "file")
                    return section.Body;
            }
        }
        catch (Exception ex) when (MultipartFieldStream.IsMalformed(ex, ct))
        {
            throw MultipartFieldStream.Malformed(ex);
        }
        throw KlingError.Invalid("file is required (multipart field \"file\")");
    }
}

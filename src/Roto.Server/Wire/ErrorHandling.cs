using Microsoft.AspNetCore.Diagnostics;
using Roto.Core;
using Roto.Core.Data;
using Roto.Core.Storage;
using Roto.Media;

namespace Roto.Server.Wire;

/// <summary>
/// Outermost middleware: gives the request its id (header, log scope) and turns every failure into the envelope.
/// KlingError carries its own code; a body too large is 1201; a disk below its free-space floor or a database locked
/// past its busy timeout is 503/5001; a hung media tool 504/5002; anything unexpected is 500/5000, logged with the id.
/// </summary>
public sealed class ErrorHandling(RequestDelegate next, ILogger<ErrorHandling> log)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var requestId = RequestIds.Of(http);
        http.Response.Headers["X-Request-Id"] = requestId;
        using var scope = log.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId });
        try
        {
            await next(http);
        }
        catch (KlingError e)
        {
            log.LogInformation("Request failed with {Code}: {Message}", e.Code, e.Message);
            await Envelopes.WriteErrorAsync(http, e.Code, e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Envelopes.WriteErrorAsync(http, KlingCodes.InvalidParameter, "the request body is larger than allowed");
        }
        catch (BadHttpRequestException e)
        {
            await Envelopes.WriteErrorAsync(http, KlingCodes.BadRequest, $"bad request: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            // Malformed multipart bodies surface here.
            await Envelopes.WriteErrorAsync(http, KlingCodes.BadRequest, $"bad request: {e.Message}");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (InsufficientStorageException e)
        {
            log.LogError("Refused new files: {Reason}", e.Message);
            await Envelopes.WriteErrorAsync(http, KlingCodes.Unavailable, "the server is low on disk space; try again later");
        }
        catch (MediaToolException e)
        {
            // ffmpeg/ffprobe hung or crashed: the server's fault, not the request's.
            log.LogError(e, "Media tool failure ({Tool}, {Failure})", e.Tool, e.Failure);
            var code = e.Failure is ToolFailure.TimedOut or ToolFailure.Stalled ? KlingCodes.Timeout : KlingCodes.Internal;
            await Envelopes.WriteErrorAsync(http, code, $"media processing failed: {e.Message}");
        }
        catch (Exception e) when (DbErrors.IsBusy(e))
        {
            log.LogError(e, "The database was too busy to answer in time");
            await Envelopes.WriteErrorAsync(http, KlingCodes.Unavailable, "the database is busy; try again in a moment");
        }
        catch (Exception e)
        {
            log.LogError(e, "Unexpected error");
            var message = e is MediaException ? $"media processing failed: {e.Message}" : "internal error; the request_id is in the server log";
            await Envelopes.WriteErrorAsync(http, KlingCodes.Internal, message);
        }
    }

    /// <summary>Empty-bodied 404/405 from routing become envelopes: 404/1203 and, for a wrong method, 404/1202.</summary>
    public static async Task StatusCodePageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var (code, message) = http.Response.StatusCode switch
        {
            StatusCodes.Status405MethodNotAllowed => (KlingCodes.InvalidMethod, $"{http.Request.Method} is not supported on {http.Request.Path}"),
            StatusCodes.Status404NotFound => (KlingCodes.NotFound, $"{http.Request.Path} does not exist"),
            StatusCodes.Status413PayloadTooLarge => (KlingCodes.InvalidParameter, "the request body is larger than allowed"),
            StatusCodes.Status415UnsupportedMediaType => (KlingCodes.BadRequest, "unsupported content type"),
            >= 500 => (KlingCodes.Internal, "internal error"),
            _ => (KlingCodes.BadRequest, "bad request"),
        };
        await Envelopes.WriteErrorAsync(http, code, message);
    }
}

using System.Net;

namespace Roto.Client;

/// <summary>The API answered with an error: a non-zero service code, an error HTTP status, or a body that is not the envelope.</summary>
public class RotoApiException : Exception
{
    /// <summary>Code used when the answer carried no envelope (e.g. an HTML error page from a proxy).</summary>
    public const int NoEnvelopeCode = -1;

    /// <summary>Creates the exception.</summary>
    public RotoApiException(int code, HttpStatusCode httpStatus, string? requestId, string serverMessage)
        : base(Describe(code, httpStatus, requestId, serverMessage))
    {
        Code = code;
        HttpStatus = httpStatus;
        RequestId = requestId;
        ServerMessage = serverMessage;
    }

    /// <summary>The service code (§3.4 of the wire contract, e.g. 1203 for an unknown resource), or <see cref="NoEnvelopeCode"/>.</summary>
    public int Code { get; }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode HttpStatus { get; }

    /// <summary>The server's request id, to quote when asking about the failure; null when the answer had none.</summary>
    public string? RequestId { get; }

    /// <summary>The server's <c>message</c>, e.g. the name of an invalid field.</summary>
    public string ServerMessage { get; }

    /// <summary>True for codes the client retries on its own: rate and concurrency limits, maintenance, backlog.</summary>
    public bool IsTransient => Code is 1302 or 1303 or 5001 or 5002;

    private static string Describe(int code, HttpStatusCode status, string? requestId, string message) =>
        $"Roto API error {code} (HTTP {(int)status}): {message}" + (requestId is null ? "" : $" [request_id {requestId}]");
}

/// <summary>A task ended in <c>failed</c>.</summary>
public sealed class RotoTaskFailedException(EditTask task)
    : Exception($"Task {task.TaskId} failed: {(string.IsNullOrEmpty(task.TaskStatusMsg) ? "no reason given" : task.TaskStatusMsg)}")
{
    /// <summary>The task as last seen, with its <c>task_status_msg</c>.</summary>
    public EditTask Task { get; } = task;
}

/// <summary>A task did not finish within the time a caller was willing to wait.</summary>
public sealed class RotoWaitTimeoutException(string taskId, TimeSpan timeout, EditTask? lastSeen)
    : TimeoutException($"Task {taskId} did not finish within {timeout.TotalSeconds:0.#} s (last status: {lastSeen?.TaskStatus ?? "unknown"})")
{
    /// <summary>The task id waited on.</summary>
    public string TaskId { get; } = taskId;

    /// <summary>The task as last polled, or null if no poll succeeded.</summary>
    public EditTask? LastSeen { get; } = lastSeen;
}

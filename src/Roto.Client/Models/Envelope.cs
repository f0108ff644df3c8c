namespace Roto.Client;

/// <summary>The body of every answer: <c>{code, message, request_id, data}</c>.</summary>
internal sealed class Envelope<T>
{
    public int? Code { get; init; }
    public string? Message { get; init; }
    public string? RequestId { get; init; }
    public T? Data { get; init; }
}

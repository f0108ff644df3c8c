using Roto.Core;

namespace Roto.Server.Wire;

/// <summary>
/// A multipart field's body, read-only, whose read failures (a truncated or garbled body, one larger than the request
/// limit) answer 400/1200 "the multipart body is malformed" rather than reaching Core as I/O errors of its own.
/// </summary>
public sealed class MultipartFieldStream(Stream field, CancellationToken requestAborted) : Stream
{
    public static bool IsMalformed(Exception ex, CancellationToken requestAborted) =>
        ex is InvalidDataException or IOException && !requestAborted.IsCancellationRequested;

    public static KlingError Malformed(Exception ex) => new(KlingCodes.BadRequest, $"the multipart body is malformed: {ex.Message}");

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await field.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (IsMalformed(ex, requestAborted))
        {
            throw Malformed(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return field.Read(buffer, offset, count);
        }
        catch (Exception ex) when (IsMalformed(ex, requestAborted))
        {
            throw Malformed(ex);
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

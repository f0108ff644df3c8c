using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Core.Storage;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>The local file store puts files in place whole: a reader sees the old bytes or all of the new, never part.</summary>
public sealed class LocalFileStoreTests : IDisposable
{
    private readonly string _dataDir = TestData.TempDir("roto-store");
    private readonly LocalFileStore _store;

    public LocalFileStoreTests()
    {
        var options = Options.Create(new RotoOptions { DataDir = _dataDir });
        _store = new LocalFileStore(options, new DataDirectory(options));
    }

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task A_committed_scratch_file_moves_to_its_key()
    {
        var temp = _store.TempPath(".bin");
        await File.WriteAllBytesAsync(temp, [1, 2, 3]);
        await _store.CommitAsync(temp, "upload/20260101/a.bin", CancellationToken.None);

        Assert.False(File.Exists(temp));
        Assert.True(_store.Exists("upload/20260101/a.bin"));
        await using var content = _store.OpenRead("upload/20260101/a.bin")!.Content;
        Assert.Equal(3, content.Length);
    }

    [Fact]
    public async Task A_file_from_outside_the_store_is_copied_in_beside_its_key_then_renamed()
    {
        var outside = Path.Combine(TestData.TempDir("roto-outside"), "clip.bin");
        await File.WriteAllBytesAsync(outside, new byte[100_000]);
        await _store.CommitAsync(outside, "result/20260101/b.bin", CancellationToken.None);

        Assert.False(File.Exists(outside));
        Assert.Equal(100_000, new FileInfo(_store.PathOf("result/20260101/b.bin")).Length);
        Assert.Equal(["b.bin"], Directory.GetFiles(Path.GetDirectoryName(_store.PathOf("result/20260101/b.bin"))!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_write_that_fails_halfway_leaves_the_old_file_and_no_partial_one()
    {
        const string key = "image/20260101/c.png";
        await _store.WriteAsync(key, new MemoryStream([9, 9]), CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync(key, new BreaksAfter(50_000), CancellationToken.None));

        Assert.Equal([9, 9], await File.ReadAllBytesAsync(_store.PathOf(key)));
        Assert.Equal(["c.png"], Directory.GetFiles(Path.GetDirectoryName(_store.PathOf(key))!).Select(Path.GetFileName));
    }

    [Fact]
    public void A_missing_key_opens_to_nothing_and_a_key_leaving_the_store_is_not_found()
    {
        Assert.Null(_store.OpenRead("upload/20260101/none.mp4"));
        Assert.False(_store.Exists("upload/20260101/none.mp4"));
        Assert.Equal(KlingCodes.NotFound, Assert.Throws<KlingError>(() => _store.OpenRead("../roto.db")).Code);
    }

    /// <summary>A body that delivers some bytes, then breaks, as a client that drops its connection does.</summary>
    private sealed class BreaksAfter(int bytes) : Stream
    {
        private int _left = bytes;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left == 0) throw new IOException("the connection broke");
            var n = Math.Min(count, _left);
            _left -= n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

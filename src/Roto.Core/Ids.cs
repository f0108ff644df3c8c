namespace Roto.Core;

/// <summary>
/// Decimal ids of 18–19 digits like Kling's: milliseconds since 2020 in the high bits, then a per-process
/// counter and random bits, so ids sort by creation and two processes rarely collide.
/// </summary>
public static class Ids
{
    private static readonly DateTimeOffset Epoch = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static long _last;

    public static string New()
    {
        var ms = (long)(DateTimeOffset.UtcNow - Epoch).TotalMilliseconds;
        var candidate = (ms << 22) | (long)Random.Shared.Next(0, 1 << 22);
        long last, next;
        do
        {
            last = Interlocked.Read(ref _last);
            next = Math.Max(candidate, last + 1);
        } while (Interlocked.CompareExchange(ref _last, next, last) != last);
        return next.ToString();
    }

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}

using CsCheck;
using Roto.Masks;

namespace Roto.Masks.Tests;

public sealed class CocoRleTests
{
    private static BinaryMask FromRows(params string[] rows)
    {
        var mask = new BinaryMask(rows[0].Length, rows.Length);
        for (var y = 0; y < rows.Length; y++)
            for (var x = 0; x < rows[y].Length; x++) mask[x, y] = rows[y][x] == '1';
        return mask;
    }

    public static IEnumerable<object[]> SpecVectors() =>
    [
        [new[] { "001100", "011110", "011110", "000100" }, new[] { 5, 2, 1, 3, 1, 4, 1, 2, 5 }, "5211010N4"],
        [new[] { "11", "11" }, new[] { 0, 4 }, "04"],
        [new[] { "00", "00" }, new[] { 4 }, "4"],
        [new[] { "100", "100" }, new[] { 0, 2, 4 }, "024"],
    ];

    [Theory]
    [MemberData(nameof(SpecVectors))]
    public void Encodes_and_decodes_the_spec_vectors(string[] rows, int[] runs, string counts)
    {
        var mask = FromRows(rows);
        Assert.Equal(runs, CocoRle.RunLengths(mask));
        Assert.Equal(counts, CocoRle.Encode(mask));
        Assert.True(CocoRle.Decode(mask.Height, mask.Width, counts).SameAs(mask));
    }

    [Fact]
    public void Encodes_the_720p_rectangle_vector()
    {
        var mask = new BinaryMask(1280, 720);
        for (var y = 100; y < 300; y++)
            for (var x = 200; x < 500; x++) mask[x, y] = true;
        var expected = "Tg\\4X6X`" + new string('0', 598) + "lZTa0";
        Assert.Equal(611, expected.Length);
        Assert.Equal(expected, CocoRle.Encode(mask));
        Assert.Equal(601, CocoRle.RunLengths(mask).Count);
        Assert.True(CocoRle.Decode(720, 1280, expected).SameAs(mask));
    }

    [Fact]
    public void Column_major_encoding_matches_the_row_major_one()
    {
        Gen.Int[1, 40].SelectMany(w => Gen.Int[1, 40].SelectMany(h => Gen.Byte[0, 1].Array[w * h].Select(px => new BinaryMask(w, h, px))))
            .Sample(mask =>
            {
                var columnMajor = new byte[mask.Width * mask.Height];
                for (var x = 0; x < mask.Width; x++)
                    for (var y = 0; y < mask.Height; y++) columnMajor[x * mask.Height + y] = mask.Pixels[y * mask.Width + x];
                return CocoRle.EncodeColumnMajor(columnMajor) == CocoRle.Encode(mask);
            }, iter: 500);
    }

    [Fact]
    public void Round_trips_any_mask()
    {
        Gen.Int[1, 64].SelectMany(w => Gen.Int[1, 64].SelectMany(h => Gen.Byte[0, 1].Array[w * h].Select(px => new BinaryMask(w, h, px))))
            .Sample(mask => CocoRle.Decode(mask.Height, mask.Width, CocoRle.Encode(mask)).SameAs(mask), iter: 500);
    }

    [Fact]
    public void Round_trips_long_runs_at_2160p()
    {
        Gen.Int[0, 2160 * 2160].Array[0, 8].Sample(cuts =>
        {
            var mask = new BinaryMask(2160, 2160);
            var sorted = cuts.Order().ToArray();
            for (var i = 0; i + 1 < sorted.Length; i += 2)
                for (var p = sorted[i]; p < sorted[i + 1]; p++) mask.Pixels[(p % 2160) * 2160 + p / 2160] = 1;
            return CocoRle.Decode(2160, 2160, CocoRle.Encode(mask)).SameAs(mask);
        }, iter: 20);
    }

    [Fact]
    public void Rejects_counts_that_do_not_cover_the_mask()
    {
        Assert.Throws<FormatException>(() => CocoRle.Decode(2, 2, "3"));
        Assert.Throws<FormatException>(() => CocoRle.Decode(2, 2, "0~"));
    }
}

public sealed class MaskPngTests
{
    [Fact]
    public void Round_trips_any_mask_as_an_8_bit_greyscale_png()
    {
        Gen.Int[1, 50].SelectMany(w => Gen.Int[1, 50].SelectMany(h => Gen.Byte[0, 1].Array[w * h].Select(px => new BinaryMask(w, h, px))))
            .Sample(mask =>
            {
                var png = MaskPng.Encode(mask);
                return png[25] == 0 && png[24] == 8 && MaskPng.Decode(png).SameAs(mask);
            }, iter: 300);
    }

    [Fact]
    public void Selected_pixels_are_255()
    {
        var mask = new BinaryMask(3, 1, [1, 0, 1]);
        var decoded = MaskPng.Decode(MaskPng.Encode(mask));
        Assert.Equal([1, 0, 1], decoded.Pixels);
    }
}

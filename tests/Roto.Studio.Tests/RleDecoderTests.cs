using Roto.Masks;

namespace Roto.Studio.Tests;

/// <summary>The page's COCO RLE decoder (js/rle.js), run in Chromium, against the spec's vectors and Roto's own encoder.</summary>
[Collection(StudioCollection.Name)]
public sealed class RleDecoderTests(StudioFixture fixture)
{
    private const string Decode =
        "async (cases) => { const { decodeRle, rleArea } = await import('/js/rle.js'); " +
        "return cases.map(c => { const m = decodeRle({ size: c.size, counts: c.counts }); " +
        "return { bits: Array.from(m.data).join(''), area: rleArea({ size: c.size, counts: c.counts }) }; }); }";

    public sealed record Case(int[] size, string counts);

    public sealed record Decoded(string Bits, int Area);

    private static async Task<Decoded[]> DecodeInBrowser(StudioPage studio, Case[] cases)
    {
        var result = await studio.EvaluateAsync<System.Text.Json.JsonElement>(Decode, cases);
        return result.EnumerateArray()
            .Select(e => new Decoded(e.GetProperty("bits").GetString()!, e.GetProperty("area").GetInt32()))
            .ToArray();
    }

    [Fact]
    public async Task Decodes_the_spec_vectors_column_major()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        Case[] cases =
        [
            new([4, 6], "5211010N4"),
            new([2, 2], "04"),
            new([2, 2], "4"),
            new([2, 3], "024"),
        ];
        var decoded = await DecodeInBrowser(studio, cases);
        Assert.Equal("001100" + "011110" + "011110" + "000100", decoded[0].Bits);
        Assert.Equal("1111", decoded[1].Bits);
        Assert.Equal("0000", decoded[2].Bits);
        Assert.Equal("100" + "100", decoded[3].Bits);
        Assert.Equal([11, 4, 0, 2], decoded.Select(d => d.Area));
    }

    [Fact]
    public async Task Decodes_what_Roto_encodes_including_large_runs()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        var random = new Random(20261125);
        var masks = new List<BinaryMask>();
        for (var i = 0; i < 40; i++)
        {
            var (w, h) = (random.Next(1, 40), random.Next(1, 40));
            var mask = new BinaryMask(w, h);
            // Blobs and noise: long runs (delta coding, sign extension) and short ones.
            var density = random.NextDouble();
            for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                mask[x, y] = random.NextDouble() < density;
            masks.Add(mask);
        }
        var rectangle = new BinaryMask(1280, 720);
        for (var y = 100; y < 300; y++)
        for (var x = 200; x < 500; x++)
            rectangle[x, y] = true;
        masks.Add(rectangle);

        var cases = masks.Select(m => new Case([m.Height, m.Width], CocoRle.Encode(m))).ToArray();
        Assert.Equal("Tg\\4X6X`" + new string('0', 598) + "lZTa0", cases[^1].counts);
        var decoded = await DecodeInBrowser(studio, cases);
        for (var i = 0; i < masks.Count; i++)
        {
            var expected = string.Concat(masks[i].Pixels.Select(p => p != 0 ? '1' : '0'));
            Assert.True(expected == decoded[i].Bits, $"mask {i} ({masks[i].Width}×{masks[i].Height}) decodes to the pixels Roto encoded");
            Assert.Equal(masks[i].Area(), decoded[i].Area);
        }
    }

    [Fact]
    public async Task Rejects_counts_that_do_not_fill_the_mask()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        var message = await studio.EvaluateAsync<string>(
            "async () => { const { decodeRle } = await import('/js/rle.js'); try { decodeRle({ size: [2, 2], counts: '3' }); return 'no error'; } catch (e) { return e.message; } }");
        Assert.Contains("cover 3 pixels", message);
    }
}

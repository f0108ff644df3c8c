using OpenCvSharp;
using Roto.Vision.Learned;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

public sealed class TinyVitInputSizeTests(LearnedModelsFixture fixture) : IClassFixture<LearnedModelsFixture>
{
    [Fact]
    public void The_served_encoder_takes_a_wide_frame_on_an_input_of_its_shape()
    {
        var encoder = fixture.Models.Encoder;

        Assert.True(encoder.FitsInput);
        Assert.Equal(new Size(1024, 704), encoder.InputSize(new Size(854, 480)));
        Assert.Equal(new Size(1024, 704), encoder.InputSize(new Size(1920, 1080)));
        Assert.Equal(new Size(704, 1024), encoder.InputSize(new Size(480, 854)));
        Assert.Equal(new Size(1024, 896), encoder.InputSize(new Size(640, 480)));
        Assert.Equal(new Size(1024, 1024), encoder.InputSize(new Size(500, 500)));
        Assert.Equal(new Size(1024, 576), encoder.InputSize(new Size(854, 480), flush: true));
        Assert.Equal(new Size(576, 1024), encoder.InputSize(new Size(480, 854), flush: true));
        var embedding = encoder.Encode(Frame("blackswan"));
        Assert.Equal(SamEncoder.EmbeddingChannels * SamEncoder.EmbeddingSide * SamEncoder.EmbeddingSide, embedding.Data.Length);
    }

    [Theory]
    [InlineData("blackswan", false)]
    [InlineData("dog", true)]
    public void A_click_on_the_fitted_input_selects_what_the_square_selects(string sequence, bool portrait)
    {
        using var square = SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)), fitEncoderInput: false);
        Assert.False(square.Encoder.FitsInput);
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        if (portrait)
        {
            // The rewrite sets heights and widths apart; a transposed frame cuts the input's width instead.
            Cv2.Transpose(frame, frame);
            Cv2.Transpose(truth, truth);
        }
        var click = Interior(truth);

        using var fitted = new SamClickSegmenter(fixture.Models).Segment(new SegmentRequest(frame, [click], null));
        using var onSquare = new SamClickSegmenter(square).Segment(new SegmentRequest(frame, [click], null));

        // The cut input's embedding differs a little from the square's near the picture's edge, where the square's
        // padding reaches into it: the masks agree, not to the pixel.
        var (agreement, fittedIou, squareIou) = (Iou(fitted, onSquare), Iou(fitted, truth), Iou(onSquare, truth));
        var report = $"agreement {agreement:0.000}, IoU with the ground truth {fittedIou:0.000} fitted, {squareIou:0.000} square";
        Assert.True(agreement >= 0.85, report);
        Assert.True(fittedIou >= 0.7 && fittedIou >= squareIou - 0.05, report);
    }

    [Fact]
    public void Exports_it_does_not_know_and_sizes_off_its_step_are_left_alone()
    {
        var files = SamModelFiles.In(ModelsDir.Resolve(null));
        var encoder = File.ReadAllBytes(files.Encoder);

        Assert.Null(TinyVitInputSize.TryResize(File.ReadAllBytes(files.Decoder), 576, 1024));
        Assert.Null(TinyVitInputSize.TryResize(File.ReadAllBytes(files.Saliency), 576, 1024));
        Assert.Null(TinyVitInputSize.TryResize(encoder, 570, 1024));
        Assert.Null(TinyVitInputSize.TryResize(encoder, 576, 2048));
        Assert.Null(TinyVitInputSize.TryResize([1, 2, 3], 576, 1024));
        Assert.NotNull(TinyVitInputSize.TryResize(encoder, 576, 1024));
    }
}

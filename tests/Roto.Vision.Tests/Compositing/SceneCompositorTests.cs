using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision.Compositing;
using Roto.Vision.Removal;
using Roto.Vision.Tests.Removal;

namespace Roto.Vision.Tests.Compositing;

public sealed class SceneCompositorTests
{
    /// <summary>
    /// The swan of DAVIS blackswan swapped for the dog of DAVIS dog, with the true swan masks as the track: on every
    /// frame the dog must cover much of the swan's box, and nothing outside the (grown) box may change.
    /// </summary>
    [Fact]
    public void Swap_puts_the_subject_in_the_tracked_region_on_every_frame_and_nowhere_else()
    {
        const int n = 10, w = 428, h = 240;
        var dir = TestData.TempDir("roto-swap");
        try
        {
            var (video, maskFiles) = RealClips.Davis(dir, "blackswan", n, w, h);
            var input = RealClips.ReadAll(video);
            var track = new PngMaskTrack(maskFiles, w, h);
            using var cutout = RealClips.Cutout("dog", 0);
            var subject = new SubjectExtractor().Extract(cutout);
            var removed = new List<Mat>();
            var swapped = new List<Mat>();
            var remover = new FlowGuidedRemover();
            remover.Remove(video, track, (_, f) => removed.Add(f.Clone()), null, CancellationToken.None);
            new SceneCompositor().Swap(video, track, subject, remover, (_, f) => swapped.Add(f.Clone()), null, CancellationToken.None);
            Assert.Equal(n, swapped.Count);

            var pad = FlowGuidedRemover.HoleRadius(w, h);
            using var subjectColour = new Mat();
            Cv2.CvtColor(subject.Bgra, subjectColour, ColorConversionCodes.BGRA2BGR);
            using var subjectAlpha = subject.Bgra.ExtractChannel(3);
            var subjectMean = Cv2.Mean(subjectColour, subjectAlpha);
            for (var i = 0; i < n; i++)
            {
                using var mask = track.UnionMask(i);
                var box = Cv2.BoundingRect(mask);
                var grown = new Rect(box.X - pad, box.Y - pad, box.Width + 2 * pad, box.Height + 2 * pad) & new Rect(0, 0, w, h);

                using var changed = Changed(swapped[i], input[i]);
                using (var inside = changed[grown]) inside.SetTo(Scalar.All(0));
                Assert.Equal(0, Cv2.CountNonZero(changed));

                // Where the swap differs from the bare removal is where the subject was drawn.
                using var drawn = Changed(swapped[i], removed[i], 12);
                var drawnBox = Cv2.BoundingRect(drawn);
                Assert.True((drawnBox & grown) == drawnBox, $"frame {i}: subject drawn at {drawnBox}, region {grown}");
                Assert.True(Cv2.CountNonZero(drawn) > 0.2 * box.Width * box.Height, $"frame {i}: too little of the subject drawn");
                var drawnMean = Cv2.Mean(swapped[i], drawn);
                var removedMean = Cv2.Mean(removed[i], drawn);
                Assert.True(Distance(drawnMean, subjectMean) < Distance(removedMean, subjectMean),
                    $"frame {i}: drawn pixels do not look like the subject");
            }
            foreach (var m in input.Concat(removed).Concat(swapped)) m.Dispose();
            subject.Bgra.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// A subject added at a placement on a real panning clip (01_dog): on frame 0 it stands at the placement with the
    /// placement's height, and on every frame it stands where the camera carries that spot, and nothing changes
    /// outside the subject's box there.
    /// </summary>
    [Fact]
    public void Addition_puts_the_subject_at_the_placement_on_every_frame_and_nowhere_else()
    {
        const int n = 20, w = 480, h = 270;
        var dir = TestData.TempDir("roto-add");
        var frames = RealClips.ClipFrames("01_dog.mp4", n, w, h);
        try
        {
            var video = RealClips.Write(Path.Combine(dir, "dog.mkv"), frames);
            using var cutout = RealClips.Cutout("blackswan", 0);
            var subject = new SubjectExtractor().Extract(cutout);
            var placement = new Placement(0.3, 0.55, 0.3);
            var output = new List<Mat>();
            new SceneCompositor().Add(video, null, [subject], placement, (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
            Assert.Equal(n, output.Count);

            var expectedH = placement.Scale * h;
            var expectedW = expectedH * subject.Bgra.Width / subject.Bgra.Height;
            using (var changed0 = Changed(output[0], frames[0]))
            {
                var box0 = Cv2.BoundingRect(changed0);
                Assert.InRange(box0.Height, expectedH - 4, expectedH + 6);
                Assert.InRange(box0.Width, expectedW - 4, expectedW + 6);
                Assert.InRange(box0.X + box0.Width / 2.0, placement.X * w - 3, placement.X * w + 3);
                Assert.InRange(box0.Y + box0.Height / 2.0, placement.Y * h - 3, placement.Y * h + 3);
            }
            AssertFixedToTheScene(video, null, frames, output);
            foreach (var m in output) m.Dispose();
            subject.Bgra.Dispose();
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// With a marked region and no placement, the subject stands in the region's box on the region's first frame, and on
    /// every frame where the camera carries that box, with nothing changed anywhere else.
    /// </summary>
    [Fact]
    public void Addition_is_anchored_to_the_marked_region()
    {
        const int n = 12, w = 428, h = 240;
        var dir = TestData.TempDir("roto-add-anchor");
        try
        {
            var (video, maskFiles) = RealClips.Davis(dir, "bmx-trees", n, w, h);
            var input = RealClips.ReadAll(video);
            var track = new PngMaskTrack(maskFiles, w, h);
            using var cutout = RealClips.Cutout("dog", 0);
            var subject = new SubjectExtractor().Extract(cutout);
            var output = new List<Mat>();
            new SceneCompositor().Add(video, track, [subject], null, (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
            Assert.Equal(n, output.Count);

            using var mask0 = track.UnionMask(0);
            var region = Cv2.BoundingRect(mask0);
            using var changed = Changed(output[0], input[0]);
            var box = Cv2.BoundingRect(changed);
            var grown = new Rect(region.X - 3, region.Y - 3, region.Width + 6, region.Height + 6);
            Assert.True((box & grown) == box, $"subject at {box}, region {region}");
            Assert.True(box.Height >= region.Height * 0.9 || box.Width >= region.Width * 0.9, $"subject {box} does not fill region {region}");
            AssertFixedToTheScene(video, track, input, output);
            foreach (var m in input.Concat(output)) m.Dispose();
            subject.Bgra.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// On every frame the subject (the pixels that differ from the input) lies in frame 0's subject box carried there by
    /// the camera's motion (estimated apart, on the input, with the tracked element left out), covers a good part of
    /// it, and nothing changes outside it.
    /// </summary>
    private static void AssertFixedToTheScene(VideoSource video, IMaskTrack? track, IReadOnlyList<Mat> input, IReadOnlyList<Mat> output)
    {
        var path = CameraPath.Estimate(video, track, null, CancellationToken.None);
        using var changed0 = Changed(output[0], input[0]);
        var box0 = Cv2.BoundingRect(changed0);
        const int slack = 5;
        for (var i = 0; i < output.Count; i++)
        {
            var toHere = path.Map(0, i);
            Point2d[] corners = [new(box0.X, box0.Y), new(box0.Right, box0.Y), new(box0.X, box0.Bottom), new(box0.Right, box0.Bottom)];
            var moved = corners.Select(toHere.Apply).ToList();
            var x0 = (int)Math.Floor(moved.Min(p => p.X)) - slack;
            var y0 = (int)Math.Floor(moved.Min(p => p.Y)) - slack;
            var expected = new Rect(x0, y0, (int)Math.Ceiling(moved.Max(p => p.X)) + slack - x0, (int)Math.Ceiling(moved.Max(p => p.Y)) + slack - y0);

            using var changed = Changed(output[i], input[i]);
            var inFrame = expected & new Rect(0, 0, changed.Width, changed.Height);
            var all = Cv2.CountNonZero(changed);
            int inside;
            using (var roi = changed[inFrame]) inside = Cv2.CountNonZero(roi);
            Assert.True(all == inside, $"frame {i}: {all - inside} pixels changed outside the subject's box {expected}");
            Assert.True(inside > 0.3 * box0.Width * box0.Height, $"frame {i}: the subject is missing from {expected} ({inside} pixels changed)");
        }
    }

    private static Mat Changed(Mat a, Mat b, int threshold = 0)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var grey = new Mat();
        Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
        var changed = new Mat();
        Cv2.Threshold(grey, changed, threshold, 255, ThresholdTypes.Binary);
        return changed;
    }

    private static double Distance(Scalar a, Scalar b) =>
        Math.Sqrt((a.Val0 - b.Val0) * (a.Val0 - b.Val0) + (a.Val1 - b.Val1) * (a.Val1 - b.Val1) + (a.Val2 - b.Val2) * (a.Val2 - b.Val2));
}

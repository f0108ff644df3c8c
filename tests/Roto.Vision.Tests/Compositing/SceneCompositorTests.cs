using OpenCvSharp;
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
    /// placement's height, and on every frame exactly one subject-sized patch changes, moving no faster than the camera.
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
            Rect? previous = null;
            for (var i = 0; i < n; i++)
            {
                using var changed = Changed(output[i], frames[i]);
                var box = Cv2.BoundingRect(changed);
                Assert.InRange(box.Height, expectedH - 4, expectedH + 6);
                Assert.InRange(box.Width, expectedW - 4, expectedW + 6);
                if (i == 0)
                {
                    Assert.InRange(box.X + box.Width / 2.0, placement.X * w - 3, placement.X * w + 3);
                    Assert.InRange(box.Y + box.Height / 2.0, placement.Y * h - 3, placement.Y * h + 3);
                }
                if (previous is { } p) Assert.InRange(Math.Abs(box.X - p.X) + Math.Abs(box.Y - p.Y), 0, 12);
                previous = box;
                // Nothing changes outside the subject's patch: the changed pixels fill a good part of their box.
                Assert.True(Cv2.CountNonZero(changed) > 0.3 * box.Width * box.Height, $"frame {i}: changes scattered over {box}");
            }
            foreach (var m in output) m.Dispose();
            subject.Bgra.Dispose();
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
            Directory.Delete(dir, true);
        }
    }

    /// <summary>With a marked region and no placement, the subject stands in the region's box on the region's first frame.</summary>
    [Fact]
    public void Addition_is_anchored_to_the_marked_region()
    {
        const int n = 6, w = 428, h = 240;
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

            using var mask0 = track.UnionMask(0);
            var region = Cv2.BoundingRect(mask0);
            using var changed = Changed(output[0], input[0]);
            var box = Cv2.BoundingRect(changed);
            var grown = new Rect(region.X - 3, region.Y - 3, region.Width + 6, region.Height + 6);
            Assert.True((box & grown) == box, $"subject at {box}, region {region}");
            Assert.True(box.Height >= region.Height * 0.9 || box.Width >= region.Width * 0.9, $"subject {box} does not fill region {region}");
            for (var i = 1; i < n; i++)
            {
                using var c = Changed(output[i], input[i]);
                Assert.True(Cv2.CountNonZero(c) > 0.3 * box.Width * box.Height, $"frame {i}: subject missing");
            }
            foreach (var m in input.Concat(output)) m.Dispose();
            subject.Bgra.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
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

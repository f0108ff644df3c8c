using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Removal;

namespace Roto.Vision.Tests.Removal;

public sealed class FlowGuidedRemoverTests
{
    /// <summary>
    /// A real DAVIS element (libby, a dog running) pasted on a real clip (bees): the clip is the truth. The remover,
    /// given the true masks, must beat per-frame Telea inside the region and leave everything else untouched.
    /// </summary>
    [Fact]
    public void Removal_of_a_pasted_element_restores_the_real_background_better_than_per_frame_Telea()
    {
        const int n = 16, w = 428, h = 240;
        var dir = TestData.TempDir("roto-remove");
        var background = RealClips.ClipFrames("bees.mp4", n, w, h);
        var maskFiles = Directory.GetFiles(Path.Combine(TestData.Davis("libby"), "masks"), "*.png").Order().Take(n).ToList();
        var elementFiles = Directory.GetFiles(Path.Combine(TestData.Davis("libby"), "frames"), "*.jpg").Order().Take(n).ToList();
        var masks = new List<Mat>();
        var composite = new List<Mat>();
        try
        {
            for (var i = 0; i < n; i++)
            {
                using var rawMask = Cv2.ImRead(maskFiles[i], ImreadModes.Grayscale);
                using var element = Cv2.ImRead(elementFiles[i]);
                var mask = new Mat();
                Cv2.Resize(rawMask, mask, new Size(w, h), 0, 0, InterpolationFlags.Nearest);
                Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
                using var small = new Mat();
                Cv2.Resize(element, small, new Size(w, h), 0, 0, InterpolationFlags.Area);
                var c = background[i].Clone();
                small.CopyTo(c, mask);
                masks.Add(mask);
                composite.Add(c);
            }
            var video = RealClips.Write(Path.Combine(dir, "composite.mkv"), composite);
            var output = new List<Mat>();
            var remover = new FlowGuidedRemover();
            using (var track = new InMemoryMaskTrack(masks.Select(m => m.Clone()).ToList()))
                remover.Remove(video, track, (i, f) => { Assert.Equal(output.Count, i); output.Add(f.Clone()); }, null, CancellationToken.None);
            Assert.Equal(n, output.Count);

            var radius = FlowGuidedRemover.HoleRadius(w, h);
            using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * radius + 1, 2 * radius + 1));
            double roto = 0, telea = 0;
            for (var i = 0; i < n; i++)
            {
                using var region = new Mat();
                Cv2.Dilate(masks[i], region, kernel);
                using var inpainted = new Mat();
                Cv2.Inpaint(composite[i], region, inpainted, 5, InpaintTypes.Telea);
                roto += RealClips.PsnrInside(output[i], background[i], region) / n;
                telea += RealClips.PsnrInside(inpainted, background[i], region) / n;

                using var outside = new Mat();
                Cv2.BitwiseNot(region, outside);
                using var diff = new Mat();
                Cv2.Absdiff(output[i], composite[i], diff);
                using var grey = new Mat();
                Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
                grey.SetTo(Scalar.All(0), region);
                Assert.Equal(0, Cv2.CountNonZero(grey));
            }
            Assert.True(roto >= telea + 2, $"roto {roto:F2} dB vs telea {telea:F2} dB inside the region");
            Assert.True(roto >= 20, $"roto {roto:F2} dB inside the region");
        }
        finally
        {
            foreach (var m in background.Concat(masks).Concat(composite)) m.Dispose();
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A real frame panned 3 px per frame: the camera path must find the pan.</summary>
    [Fact]
    public void Camera_path_recovers_a_known_pan_of_a_real_frame()
    {
        var dir = TestData.TempDir("roto-path");
        using var big = Cv2.ImRead(Path.Combine(TestData.Davis("bmx-trees"), "frames", "00000.jpg"));
        var frames = Enumerable.Range(0, 10).Select(i => big[new Rect(100 - 3 * i, 60, 640, 360)].Clone()).ToList();
        try
        {
            var video = RealClips.Write(Path.Combine(dir, "pan.mkv"), frames);
            var path = CameraPath.Estimate(video, null, null, CancellationToken.None);
            var moved = path.Map(0, 9).Apply(new Point2d(320, 180));
            Assert.InRange(moved.X - 320, 27 - 1.0, 27 + 1.0);
            Assert.InRange(moved.Y - 180, -1.0, 1.0);
            var back = path.Map(9, 2).Apply(new Point2d(320, 180));
            Assert.InRange(back.X - 320, -21 - 1.0, -21 + 1.0);
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
            Directory.Delete(dir, true);
        }
    }
}

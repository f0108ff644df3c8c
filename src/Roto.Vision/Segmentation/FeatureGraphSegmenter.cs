using System.Runtime.InteropServices;
using OpenCvSharp;
using OpenCvSharp.XImgProc;
using Roto.Vision.Features;

namespace Roto.Vision.Segmentation;

/// <summary>
/// Roto's click segmenter: superpixels described by colour and ResNet-18 features, cut into element and background
/// by a graph cut that learns both appearances from the clicks, then edges refined at pixel level with a guided
/// filter. The per-frame analysis (the expensive part: the network and the superpixels) is cached by
/// <see cref="SegmentRequest.CacheKey"/>, so further clicks on a frame only redo the cut. Thread-safe.
/// </summary>
public sealed class FeatureGraphSegmenter : IClickSegmenter, IDisposable
{
    private readonly FeatureGraphOptions _options;
    private readonly Lazy<ResNetFeatureExtractor> _features;
    private readonly LruCache<FrameAnalysis> _cache;
    private readonly SuperpixelCut _cut;
    private readonly GeodesicLabeller _geodesic;
    private readonly ClickReplay _replay;
    private readonly MaskReplay _maskReplay;

    public FeatureGraphSegmenter() : this(new FeatureGraphOptions()) { }

    public FeatureGraphSegmenter(FeatureGraphOptions options, string? modelPath = null)
    {
        _options = options;
        _features = new(() => new ResNetFeatureExtractor(options.FeatureStrides, modelPath));
        _cache = new LruCache<FrameAnalysis>(options.CachedFrames);
        _cut = new SuperpixelCut(options);
        _geodesic = new GeodesicLabeller(options);
        _maskReplay = new MaskReplay((frame, clicks) => RefineAtWorkingSize(frame, _replay!.Label(frame, clicks), clicks), options.Reach, options.GapReach);
        _replay = new ClickReplay(_cut.Label, options.LimitGeodesic ? _geodesic.Label : null, options.Reach);
    }

    /// <summary>Frames whose analysis is cached (for tests and diagnostics).</summary>
    public int CachedFrameCount => _cache.Count;

    /// <summary>Whether the network has been loaded (for tests and diagnostics).</summary>
    public bool IsLoaded => _features.IsValueCreated;

    /// <summary>
    /// Loads the network (about 3 s: a 64 MB model is parsed, cut and optimised) and runs one click on a small drawn
    /// frame, which also compiles the analysis and cut paths. Nothing is cached.
    /// </summary>
    public void Load()
    {
        _ = _features.Value;
        using var frame = new Mat(144, 256, MatType.CV_8UC3, new Scalar(90, 120, 60));
        Cv2.Circle(frame, new Point(128, 72), 40, new Scalar(40, 60, 200), -1);
        using var mask = Segment(new SegmentRequest(frame, [new Click(0.5, 0.5)], null));
    }

    public Mat Segment(SegmentRequest request)
    {
        var frame = request.Frame;
        if (!request.Clicks.Any(c => c.Include)) return new Mat(frame.Rows, frame.Cols, MatType.CV_8UC1, Scalar.All(0));

        var analysis = Analysis(request);
        if (_options.GrabCutBand > 0 && _options.Labeller == "replay")
        {
            using var work = _maskReplay.Mask(analysis, request.Clicks);
            return ToFrame(analysis, work);
        }
        var labels = _options.Labeller switch
        {
            "graphcut" => _cut.Label(analysis, request.Clicks),
            "geodesic" => _geodesic.Label(analysis, request.Clicks),
            _ => _replay.Label(analysis, request.Clicks),
        };
        return _options.GrabCutBand > 0 ? RefineWithGrabCut(analysis, labels, request.Clicks) : Refine(analysis, labels, request.Clicks);
    }

    /// <summary>Analyses the frame (the network and the superpixels) and caches it, so its first click only cuts.</summary>
    public void Prepare(Mat frame, string cacheKey, Mat? later = null) => Analysis(new SegmentRequest(frame, [], cacheKey));

    /// <summary>The frame's analysis, from the cache when this frame was clicked before.</summary>
    public FrameAnalysis Analysis(SegmentRequest request)
    {
        var size = request.Frame.Size();
        if (request.CacheKey is { } key && _cache.TryGet(key, out var cached) && cached.FrameSize == size) return cached;
        var analysis = new FrameAnalyzer(_features.Value, _options).Analyze(request.Frame);
        if (request.CacheKey is { } newKey) _cache.Put(newKey, analysis);
        return analysis;
    }

    /// <summary>
    /// From superpixel labels to a full-resolution mask: the 0/1 superpixel map is smoothed by a guided filter over the
    /// working image so that its edges move to the image's edges, then scaled up and thresholded.
    /// </summary>
    private static Mat Refine(FrameAnalysis analysis, bool[] labels, IReadOnlyList<Click> clicks)
    {
        int w = analysis.WorkSize.Width, h = analysis.WorkSize.Height;
        var hard = new float[w * h];
        for (var i = 0; i < hard.Length; i++) hard[i] = labels[analysis.Labels[i]] ? 1f : 0f;
        using var soft = new Mat(h, w, MatType.CV_32FC1);
        Marshal.Copy(hard, 0, soft.Data, hard.Length);
        using var guide = WorkImage(analysis);

        using var refined = new Mat();
        CvXImgProc.GuidedFilter(guide, soft, refined, GuideRadius(w), GuideEps, -1);

        // Pixel-level cleanup at working size: keep the regions that hold an include click's superpixel.
        using var binary = new Mat();
        Cv2.Threshold(refined, binary, 0.5, 255, ThresholdTypes.Binary);
        using var binary8 = new Mat();
        binary.ConvertTo(binary8, MatType.CV_8UC1);
        using var keep = KeepClickedRegions(binary8, analysis, labels, clicks);
        // A little slack around the kept regions so that their edges stay soft for the upscaling.
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(5, 5));
        Cv2.Dilate(keep, keep, kernel);
        using var keepSoft = new Mat();
        keep.ConvertTo(keepSoft, MatType.CV_32FC1, 1 / 255.0);
        Cv2.Multiply(refined, keepSoft, refined);

        return ToFrameMask(refined, analysis.FrameSize);
    }

    private Mat RefineWithGrabCut(FrameAnalysis analysis, bool[] labels, IReadOnlyList<Click> clicks)
    {
        using var work = RefineAtWorkingSize(analysis, labels, clicks);
        return ToFrame(analysis, work);
    }

    /// <summary>GrabCut in a band around the superpixel selection, keeping the regions of the include clicks; working size.</summary>
    private Mat RefineAtWorkingSize(FrameAnalysis analysis, bool[] labels, IReadOnlyList<Click> clicks)
    {
        int w = analysis.WorkSize.Width, h = analysis.WorkSize.Height;
        var hard = new byte[w * h];
        for (var i = 0; i < hard.Length; i++) hard[i] = labels[analysis.Labels[i]] ? (byte)255 : (byte)0;
        using var selection = new Mat(h, w, MatType.CV_8UC1);
        Marshal.Copy(hard, 0, selection.Data, hard.Length);
        using var guide = WorkImage(analysis);
        // The first click's outline is what the person sees first and what later clicks build on; a later click
        // changes one part of it, so one re-estimation of the colour models is enough there.
        var iterations = clicks.Count == 1 ? _options.FirstClickGrabCutIterations : _options.GrabCutIterations;
        using var cut = GrabCutRefiner.Refine(guide, selection, clicks, _options.GrabCutBand, iterations, analysis.Contrast);
        return KeepClickedRegions(cut, analysis, labels, clicks);
    }

    /// <summary>A working-size 0/255 mask to the frame's size, its edges smoothed along the image's edges by a guided filter.</summary>
    private static Mat ToFrame(FrameAnalysis analysis, Mat keep)
    {
        using var guide = WorkImage(analysis);
        using var soft = new Mat();
        keep.ConvertTo(soft, MatType.CV_32FC1, 1 / 255.0);
        using var smooth = new Mat();
        CvXImgProc.GuidedFilter(guide, soft, smooth, 2, GuideEps, -1);
        return ToFrameMask(smooth, analysis.FrameSize);
    }

    /// <summary>The frame at working resolution as an image (BGR), for the filters that follow its edges.</summary>
    private static Mat WorkImage(FrameAnalysis analysis)
    {
        var image = new Mat(analysis.WorkSize.Height, analysis.WorkSize.Width, MatType.CV_8UC3);
        Marshal.Copy(analysis.WorkBgr, 0, image.Data, analysis.WorkBgr.Length);
        return image;
    }

    /// <summary>A soft working-size mask (0…1) scaled to the frame's size and cut at one half: 0/255, CV_8UC1.</summary>
    private static Mat ToFrameMask(Mat soft, Size frameSize)
    {
        using var full = new Mat();
        Cv2.Resize(soft, full, frameSize, 0, 0, InterpolationFlags.Linear);
        using var full255 = new Mat();
        Cv2.Threshold(full, full255, 0.5, 255, ThresholdTypes.Binary);
        var mask = new Mat();
        full255.ConvertTo(mask, MatType.CV_8UC1);
        return mask;
    }

    private static int GuideRadius(int workWidth) => Math.Max(2, workWidth / 120);

    /// <summary>Regularisation of the guided filter, in squared 8-bit intensity units: edges weaker than about 20 levels do not move the mask.</summary>
    private const double GuideEps = 20.0 * 20.0;

    private static Mat KeepClickedRegions(Mat binary, FrameAnalysis analysis, bool[] labels, IReadOnlyList<Click> clicks)
    {
        using var components = new Mat();
        var count = Cv2.ConnectedComponents(binary, components, PixelConnectivity.Connectivity8);
        var ids = new int[binary.Rows * binary.Cols];
        Marshal.Copy(components.Data, ids, 0, ids.Length);
        var seeds = clicks.Where(c => c.Include).Select(analysis.SuperpixelAt).Where(s => labels[s]).ToHashSet();
        var keep = new bool[count];
        for (var i = 0; i < ids.Length; i++) if (ids[i] > 0 && seeds.Contains(analysis.Labels[i])) keep[ids[i]] = true;
        var result = new byte[ids.Length];
        for (var i = 0; i < ids.Length; i++) result[i] = keep[ids[i]] ? (byte)255 : (byte)0;
        var mat = new Mat(binary.Rows, binary.Cols, MatType.CV_8UC1);
        Marshal.Copy(result, 0, mat.Data, result.Length);
        return mat;
    }

    public void Dispose()
    {
        if (_features.IsValueCreated) _features.Value.Dispose();
    }
}

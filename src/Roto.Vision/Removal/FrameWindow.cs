using OpenCvSharp;
using Roto.Media;

namespace Roto.Vision.Removal;

/// <summary>One decoded frame with the region that must not be copied from it (the dilated elements).</summary>
public sealed class WindowFrame(int index, Mat frame, Mat hole, Rect holeBox) : IDisposable
{
    public int Index { get; } = index;
    /// <summary>BGR, full size.</summary>
    public Mat Frame { get; } = frame;
    /// <summary>CV_8UC1 0/255, full size: the dilated union of the tracked elements.</summary>
    public Mat Hole { get; } = hole;
    /// <summary>Bounding box of <see cref="Hole"/>; empty when nothing is tracked on this frame.</summary>
    public Rect HoleBox { get; } = holeBox;
    public bool HasHole => HoleBox.Width > 0 && HoleBox.Height > 0;

    public void Dispose()
    {
        Frame.Dispose();
        Hole.Dispose();
    }
}

/// <summary>
/// The frames around the one being completed, decoded once and kept only while they are within
/// <see cref="Radius"/> frames of it, so memory stays bounded whatever the video's length.
/// </summary>
public sealed class FrameWindow : IDisposable
{
    private readonly VideoSource _video;
    private readonly IMaskTrack _track;
    private readonly VideoFrameReader _reader;
    private readonly Mat _kernel;
    private readonly Dictionary<int, WindowFrame> _frames = new();
    private int _nextToRead;
    private bool _ended;

    public FrameWindow(VideoSource video, IMaskTrack track, int radius, int holeRadius)
    {
        _video = video;
        _track = track;
        Radius = radius;
        _reader = video.OpenReader();
        _kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * holeRadius + 1, 2 * holeRadius + 1));
    }

    public int Radius { get; }

    /// <summary>Makes frames center−Radius … center+Radius available and forgets older ones.</summary>
    public void MoveTo(int center) => MoveTo(center, center);

    /// <summary>Makes frames first−Radius … last+Radius available and forgets older ones.</summary>
    public void MoveTo(int first, int last)
    {
        foreach (var old in _frames.Keys.Where(k => k < first - Radius).ToList())
        {
            _frames[old].Dispose();
            _frames.Remove(old);
        }
        while (!_ended && _nextToRead <= last + Radius && _nextToRead < _video.FrameCount) ReadNext();
    }

    public WindowFrame? Get(int index) => _frames.GetValueOrDefault(index);

    private void ReadNext()
    {
        var frame = new Mat(_video.Height, _video.Width, MatType.CV_8UC3);
        if (!_reader.ReadInto(frame))
        {
            frame.Dispose();
            _ended = true;
            return;
        }
        var hole = new Mat(frame.Size(), MatType.CV_8UC1, Scalar.All(0));
        if (_nextToRead < _track.FrameCount)
        {
            using var mask = _track.UnionMask(_nextToRead);
            // Dilating only around the element: a large elliptic kernel over the whole frame costs more than the fill.
            var box = Cv2.BoundingRect(mask);
            if (box.Width > 0 && box.Height > 0)
            {
                var r = _kernel.Width / 2 + 1;
                var roi = new Rect(box.X - r, box.Y - r, box.Width + 2 * r, box.Height + 2 * r) & new Rect(0, 0, frame.Width, frame.Height);
                using var src = mask[roi];
                using var dst = hole[roi];
                Cv2.Dilate(src, dst, _kernel);
            }
        }
        _frames[_nextToRead] = new WindowFrame(_nextToRead, frame, hole, Cv2.BoundingRect(hole));
        _nextToRead++;
    }

    public void Dispose()
    {
        foreach (var f in _frames.Values) f.Dispose();
        _frames.Clear();
        _reader.Dispose();
        _kernel.Dispose();
    }
}

using OpenCvSharp;

namespace Roto.Bench.Editing;

/// <summary>Rows of labelled thumbnails (one row per video, one column per chosen frame) saved as a PNG.</summary>
public static class ContactSheet
{
    public static void Save(string path, IReadOnlyList<(string Label, IReadOnlyList<Mat> Frames)> rows, IReadOnlyList<int> columns, int thumbWidth = 320, IReadOnlyList<int>? labels = null)
    {
        var aspect = (double)rows[0].Frames[0].Height / rows[0].Frames[0].Width;
        var thumbHeight = (int)Math.Round(thumbWidth * aspect);
        const int label = 22;
        using var sheet = new Mat(rows.Count * (thumbHeight + label), columns.Count * thumbWidth, MatType.CV_8UC3, Scalar.All(255));
        for (var r = 0; r < rows.Count; r++)
            for (var c = 0; c < columns.Count; c++)
            {
                var frames = rows[r].Frames;
                var index = Math.Min(columns[c], frames.Count - 1);
                using var thumb = new Mat();
                Cv2.Resize(frames[index], thumb, new Size(thumbWidth, thumbHeight), 0, 0, InterpolationFlags.Area);
                var y = r * (thumbHeight + label);
                using (var roi = sheet[new Rect(c * thumbWidth, y + label, thumbWidth, thumbHeight)]) thumb.CopyTo(roi);
                Cv2.PutText(sheet, $"{rows[r].Label}  #{(labels != null ? labels[c] : index)}", new Point(c * thumbWidth + 4, y + 16), HersheyFonts.HersheySimplex, 0.45, Scalar.All(0), 1, LineTypes.AntiAlias);
            }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Cv2.ImWrite(path, sheet);
    }
}

using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace Roto.Vision.Learned;

/// <summary>
/// U²-Net-family salient object detection (an export with one input [1,3,320,320] whose first output is the fused
/// map): which pixels belong to the image's main subject. Roto uses it to tell a whole element from one of its parts,
/// and to cut a reference image's subject from its background. About 0.1 s a call on two cores for U²-Netp. Thread-safe.
/// </summary>
public sealed class SaliencyModel : IDisposable
{
    private const int Side = 320;
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Deviation = [0.229f, 0.224f, 0.225f];
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    public SaliencyModel(string path, int threads = 0)
    {
        _session = OnnxSessions.Open(path, threads);
        _inputName = _session.InputMetadata.Keys.First();
        OnnxSessions.RequireInput(_session, _inputName, 4, path);
        _outputName = _session.OutputMetadata.Keys.First();
    }

    /// <summary>The saliency of each pixel, 0…1, CV_32FC1 of <paramref name="outputSize"/>; the caller disposes it.</summary>
    /// <param name="bgr">CV_8UC3.</param>
    public Mat Predict(Mat bgr, Size outputSize)
    {
        const int plane = Side * Side;
        var input = new float[3 * plane];
        using (var resized = new Mat())
        using (var asFloat = new Mat())
        {
            Cv2.Resize(bgr, resized, new Size(Side, Side), 0, 0, InterpolationFlags.Area);
            resized.ConvertTo(asFloat, MatType.CV_32FC3, 1 / 255.0);
            var channels = Cv2.Split(asFloat);
            try
            {
                var values = new float[plane];
                for (var c = 0; c < 3; c++)
                {
                    var target = 2 - c;
                    using var channel = channels[c].IsContinuous() ? channels[c] : channels[c].Clone();
                    Marshal.Copy(channel.Data, values, 0, plane);
                    for (var i = 0; i < plane; i++) input[target * plane + i] = (values[i] - Mean[target]) / Deviation[target];
                }
            }
            finally
            {
                foreach (var ch in channels) ch.Dispose();
            }
        }
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_inputName, new DenseTensor<float>(input, [1, 3, Side, Side]))], [_outputName]);
        var tensor = results[0].AsTensor<float>();
        var map = tensor is DenseTensor<float> dense ? dense.Buffer.ToArray() : [.. tensor];
        // The export ends in a sigmoid but its maps are not calibrated: stretch to 0…1 as the model's authors do.
        float min = map.Min(), max = map.Max(), range = Math.Max(1e-6f, max - min);
        for (var i = 0; i < map.Length; i++) map[i] = (map[i] - min) / range;
        using var small = new Mat(Side, Side, MatType.CV_32FC1);
        Marshal.Copy(map, 0, small.Data, plane);
        var result = new Mat();
        Cv2.Resize(small, result, outputSize, 0, 0, InterpolationFlags.Linear);
        return result;
    }

    public void Dispose() => _session.Dispose();
}

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace Roto.Vision.Features;

/// <summary>A dense feature map: <see cref="Channels"/> planes of <see cref="Height"/>×<see cref="Width"/> floats, channel-major.</summary>
public sealed record DenseFeatureMap(int Stride, int Channels, int Height, int Width, float[] Data)
{
    /// <summary>The feature vector of one cell, gathered across the channel planes.</summary>
    public void CopyCell(int y, int x, Span<float> destination)
    {
        var plane = Height * Width;
        var offset = y * Width + x;
        for (var c = 0; c < Channels; c++) destination[c] = Data[c * plane + offset];
    }
}

/// <summary>
/// Dense image features from the ImageNet ResNet-18 that the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18
/// ships (copied to <c>models/ResNet18.onnx</c> beside the assemblies). The model is cut after the deepest requested
/// stage and runs at any input size, so one pass gives features at stride 4, 8, 16 and/or 32. Thread-safe.
/// </summary>
public sealed class ResNetFeatureExtractor : IDisposable
{
    /// <summary>The output tensor of each residual stage of this CNTK export, by stride.</summary>
    private static readonly Dictionary<int, string> StageOutputs = new()
    {
        [4] = "ReLU283_Output_0",
        [8] = "ReLU315_Output_0",
        [16] = "ReLU347_Output_0",
        [32] = "ReLU393_Output_0",
    };

    private const string InputName = "Input247";

    /// <summary>Caffe-style preprocessing of this model: BGR in 0…255 minus the ImageNet channel means.</summary>
    private static readonly float[] ChannelMeans = [103.06f, 115.90f, 123.15f];

    private readonly InferenceSession _session;
    private readonly int[] _strides;
    private readonly string[] _outputNames;

    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "models", "ResNet18.onnx");

    /// <param name="strides">Which stages to return: any of 4, 8, 16, 32.</param>
    /// <param name="modelPath">The ResNet18.onnx file; defaults to <see cref="DefaultModelPath"/>.</param>
    /// <param name="threads">Intra-op threads; 0 uses every core.</param>
    public ResNetFeatureExtractor(IReadOnlyList<int> strides, string? modelPath = null, int threads = 0)
    {
        if (strides.Count == 0 || strides.Any(s => !StageOutputs.ContainsKey(s)))
            throw new ArgumentException("strides must be among 4, 8, 16, 32", nameof(strides));
        _strides = [.. strides.Distinct().Order()];
        _outputNames = [.. _strides.Select(s => StageOutputs[s])];
        var path = modelPath ?? DefaultModelPath;
        if (!File.Exists(path)) throw new FileNotFoundException("ResNet18.onnx not found (it comes with the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)", path);
        var model = OnnxGraphCut.Expose(File.ReadAllBytes(path), InputName, 3, _outputNames);
        _session = Learned.OnnxSessions.Open(model, threads);
    }

    /// <summary>The input size used for a frame: about <paramref name="pixelBudget"/> pixels, multiples of 32, same aspect.</summary>
    public static Size InputSizeFor(Size frame, int pixelBudget)
    {
        var scale = Math.Sqrt((double)pixelBudget / (frame.Width * (double)frame.Height));
        return new Size(Math.Max(32, (int)Math.Round(frame.Width * scale / 32) * 32), Math.Max(32, (int)Math.Round(frame.Height * scale / 32) * 32));
    }

    /// <summary>Runs the network on a BGR image resized to <paramref name="inputSize"/> (multiples of 32).</summary>
    /// <returns>One map per requested stride, in increasing stride order.</returns>
    public IReadOnlyList<DenseFeatureMap> Extract(Mat bgr, Size inputSize)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException("image must be CV_8UC3 (BGR)", nameof(bgr));
        if (inputSize.Width % 32 != 0 || inputSize.Height % 32 != 0) throw new ArgumentException("input size must be a multiple of 32", nameof(inputSize));
        int w = inputSize.Width, h = inputSize.Height, plane = w * h;
        var input = new float[3 * plane];
        using (var resized = new Mat())
        using (var asFloat = new Mat())
        {
            Cv2.Resize(bgr, resized, inputSize, 0, 0, InterpolationFlags.Area);
            resized.ConvertTo(asFloat, MatType.CV_32FC3);
            Cv2.Subtract(asFloat, new Scalar(ChannelMeans[0], ChannelMeans[1], ChannelMeans[2]), asFloat);
            var channels = Cv2.Split(asFloat);
            try
            {
                for (var c = 0; c < 3; c++)
                {
                    using var contiguous = channels[c].IsContinuous() ? channels[c] : channels[c].Clone();
                    System.Runtime.InteropServices.Marshal.Copy(contiguous.Data, input, c * plane, plane);
                }
            }
            finally
            {
                foreach (var ch in channels) ch.Dispose();
            }
        }

        var tensor = new DenseTensor<float>(input, [1, 3, h, w]);
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(InputName, tensor)], _outputNames);
        var maps = new List<DenseFeatureMap>(_strides.Length);
        for (var i = 0; i < _strides.Length; i++)
        {
            var output = results.First(r => r.Name == _outputNames[i]).AsTensor<float>();
            var dims = output.Dimensions;
            var data = output is DenseTensor<float> dense ? dense.Buffer.ToArray() : [.. output];
            maps.Add(new DenseFeatureMap(_strides[i], dims[1], dims[2], dims[3], data));
        }
        return maps;
    }

    public void Dispose() => _session.Dispose();
}

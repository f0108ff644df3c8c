using System.Diagnostics;
using Roto.Baselines;
using System.Globalization;
using OpenCvSharp;
using Roto.Bench.Selection;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Learned;
using Roto.Vision.Segmentation;

// Simulated-user benchmark of the click segmenter on davis16-dev (frame 0 of each sequence).
// Arguments: Option=Value to override a FeatureGraphOptions property, --grabcut for the baseline,
// --no-latency, --latency-only (in process), --http-only (add-selection through the server), --clicks=N (default 20), --labels-only, --only=seq1,seq2, --verbose, --dump=DIR
// (overlays of the first three masks), --diagnose and --timing (development aids),
// --frames=0,10,20 (score frames other than 0 too, the same simulated user on each: a wider check that a change is
// not tuned to the ten frame-0 selections), --perturb (how much the first click's mask moves when the frame changes
// by a level or so, as between two decoders).
var settings = args.Where(a => a.Contains('=') && !a.StartsWith("--")).ToList();
var options = BenchOptions.Apply(new FeatureGraphOptions(), settings.Where(s => !s.StartsWith("sam.")));
var samOptions = BenchOptions.Apply(new SamSegmenterOptions(), settings.Where(s => s.StartsWith("sam.")).Select(s => s["sam.".Length..]));
var verbose = args.Contains("--verbose");
SimulatedUser.DumpDir = args.FirstOrDefault(a => a.StartsWith("--dump="))?["--dump=".Length..];
if (SimulatedUser.DumpDir != null) Directory.CreateDirectory(SimulatedUser.DumpDir);
var only = args.FirstOrDefault(a => a.StartsWith("--only="))?["--only=".Length..].Split(',');
var useSam = !args.Contains("--grabcut") && !args.Contains("--classical");
// --square-encoder: the encoder on SAM's padded 1024 square (the server's Roto:Models:FitEncoderInput=false).
// --float-encoder: the encoder's linear layers as shipped, in float (the server's Roto:Models:Int8Encoder=false).
using var models = useSam ? SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)), int8Encoder: !args.Contains("--float-encoder"), fitEncoderInput: !args.Contains("--square-encoder")) : null;
IClickSegmenter segmenter = args.Contains("--grabcut") ? new GrabCutClickSegmenter()
    : models != null ? new SamClickSegmenter(models, samOptions) : new FeatureGraphSegmenter(options);
Console.WriteLine($"segmenter: {segmenter.GetType().Name} {segmenter switch { FeatureGraphSegmenter => options.ToString(), SamClickSegmenter => samOptions.ToString(), _ => "" }}");
Console.WriteLine($"encoder: {(args.Contains("--float-encoder") ? "float" : "int8 linear layers")}, {(models?.Encoder.FitsInput == true ? "input fitted to the frame" : "square input")}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}");

var root = Path.Combine(TestData.Dir, "davis16-dev");
var sequences = Directory.GetDirectories(root).Select(Path.GetFileName).Where(s => s != "metric-check" && Directory.Exists(Path.Combine(root, s!, "frames")))
    .Select(s => s!).Where(s => only == null || only.Contains(s)).Order().ToList();

if (args.Contains("--perturb")) { NoiseStability.Measure(segmenter, root, sequences); return; }
if (args.Contains("--latency-only")) { Latency.Measure(segmenter, root, sequences); return; }
if (args.Contains("--http-only")) { await HttpLatency.MeasureAsync(root, sequences); return; }
if (args.Contains("--timing")) { Timing.Run(root); return; }
if (args.Contains("--diagnose")) { Diagnose.Run((FeatureGraphSegmenter)segmenter, root, sequences); return; }

var MaxClicks = int.Parse(args.FirstOrDefault(a => a.StartsWith("--clicks="))?["--clicks=".Length..] ?? "20");
var variants = new[] { (Name: "labels", Negatives: true), (Name: "positive-only", Negatives: false) }.Where(v => !args.Contains("--labels-only") || v.Negatives).ToArray();
var frameIndices = (args.FirstOrDefault(a => a.StartsWith("--frames="))?["--frames=".Length..] ?? "0").Split(',').Select(int.Parse).ToArray();
var results = new Dictionary<string, List<double[]>>();
const int LaterFrames = 3;
foreach (var (name, negatives) in variants)
{
    results[name] = [];
    foreach (var seq in sequences)
    foreach (var index in frameIndices)
    {
        var file = index.ToString("00000", CultureInfo.InvariantCulture);
        if (DavisFrame.Load(root, seq, index) is not { } loaded) continue;
        using var frame = loaded.Frame;
        using var gt = loaded.Truth;
        // The frame three on, as the server gives the segmenter (its motion tells the element from still background).
        var next = DavisFrame.Load(root, seq, index + LaterFrames);
        using var later = next?.Frame;
        using var laterTruth = next?.Truth;
        var user = new SimulatedUser(gt, negatives);
        var ious = user.Run(segmenter, frame, $"{name}/{seq}/{file}", MaxClicks, later);
        results[name].Add(ious);
        if (verbose) Console.WriteLine($"  {name,-14} {seq,-16} {file} " + string.Join(' ', ious.Take(8).Select(v => v.ToString("0.00", CultureInfo.InvariantCulture))) + $"  first click {user.FirstClick.X},{user.FirstClick.Y}" + (index == 0 ? $" (clicks_frame0.csv: {ReferenceClick(seq)})" : ""));
    }
}

Console.WriteLine();
// A correction that makes the mask clearly worse is what a person notices most: count the clicks that lost more than 0.05 IoU.
Console.WriteLine("| variant | IoU@1 | IoU@3 | IoU@5 | NoC@85 | NoC@90 | clicks losing > 0.05 IoU |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var (name, _) in variants)
{
    var r = results[name];
    double At(int k) => r.Average(x => x[Math.Min(k, x.Length) - 1]);
    double NoC(double t) => r.Average(x => { var i = Array.FindIndex(x, v => v >= t); return i < 0 ? MaxClicks : i + 1; });
    var losses = r.Sum(x => Enumerable.Range(1, x.Length - 1).Count(k => x[k] < x[k - 1] - 0.05));
    var clicks = r.Sum(x => x.Length - 1);
    Console.WriteLine(FormattableString.Invariant($"| {name} | {At(1):0.000} | {At(3):0.000} | {At(5):0.000} | {NoC(0.85):0.00} | {NoC(0.90):0.00} | {losses} of {clicks} |"));
}

string ReferenceClick(string seq) =>
    File.ReadLines(Path.Combine(root, "clicks_frame0.csv")).Select(l => l.Split(',')).FirstOrDefault(f => f[0] == seq) is { } f ? $"{f[2]},{f[3]}" : "-";

if (!args.Contains("--no-latency")) Latency.Measure(segmenter, root, sequences);
(segmenter as IDisposable)?.Dispose();
if (!args.Contains("--no-latency")) await HttpLatency.MeasureAsync(root, sequences);

using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;
using Roto.Bench.Tracking;
using Roto.Media;
using Roto.TestSupport;
using Roto.Baselines;
using Roto.Vision;
using Roto.Vision.Learned;
using Roto.Vision.Propagation;
using Roto.Vision.Segmentation;

// Usage: Roto.Bench.Tracking [mask|click1|clicks3|timing|all] [sequence ...] | server [Roto.Server.dll] | api [sequence ...]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var mode = args.Length > 0 ? args[0] : "mask";
var only = args.Skip(1).Where(a => !a.Contains('=')).ToHashSet();
var cache = Path.Combine(Path.GetTempPath(), "roto-bench-davis");
Directory.CreateDirectory(cache);
// The served engines as the server builds them: the SAM engine when the models folder holds its networks
// (ROTO_BENCH_ENGINE=classical for the classical ones); ROTO_BENCH_EFFORT=full scores a task's full-quality track
// instead of the preview's; anchor.Name=Value arguments override SamTrackOptions, sam.Name=Value SamSegmenterOptions, width=N the tracker's working width,
// blendback=N how many streamed frames a correction reaches backward (FlowColourPropagator.BlendBack), square=1 the
// encoder on SAM's padded square (Roto:Models:FitEncoderInput=false).
// ROTO_BENCH_FEATURES=1 tracks by feature matching (Roto:Tracking:FeatureMatching), with the SAM engine's corrections when it is served
// (features.Name=Value overrides its FrameFeatures, e.g. features.MaxPixels=230400);
// a task's track (ROTO_BENCH_EFFORT=full) is matched as the server's is (Roto:Tracking:TaskMatchingMaxFrames, 150 frames),
// and a preview's on its corrected frames (Roto:Tracking:PreviewMatchingMaxFrames, 120 frames; previewmatching=0 keeps the flow alone)
// for its first 15 s (previewmatchingseconds=N), and corrected for its first 20 s (previewcorrectionseconds=N); pinned
// runs lift both, so that their figures do not depend on how busy the machine is.
var settings = args.Where(a => a.Contains('=')).ToList();
args = [.. args.Where(a => !a.Contains('='))];
var classical = Environment.GetEnvironmentVariable("ROTO_BENCH_ENGINE") == "classical";
var effort = Environment.GetEnvironmentVariable("ROTO_BENCH_EFFORT") == "full" ? TrackingEffort.Full : TrackingEffort.Preview;
using var models = classical ? null : SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)), fitEncoderInput: !settings.Contains("square=1"));
var anchorOptions = Override(new SamTrackOptions(), "anchor.");
var samOptions = Override(new SamSegmenterOptions(), "sam.");
var anchor = models == null ? null : new SamTrackAnchor(models, anchorOptions);
anchor?.Load();
var width = settings.FirstOrDefault(s => s.StartsWith("width=")) is { } w ? int.Parse(w["width=".Length..]) : (anchor != null ? SamTrackAnchor.WorkingWidth : 320);
var blendBack = settings.FirstOrDefault(s => s.StartsWith("blendback=")) is { } b ? int.Parse(b["blendback=".Length..]) : new FlowColourPropagator().BlendBack;
IMaskPropagator propagator = Environment.GetEnvironmentVariable("ROTO_BENCH_FEATURES") == "1"
    ? new FlowColourPropagator { Features = Override(Roto.Vision.Features.FrameFeatures.ForTracking(), "features."), Anchor = anchor }
    : new FlowColourPropagator
    {
        Anchor = anchor, WorkingWidth = width, BlendBack = blendBack,
        TaskFeatures = anchor == null ? null : Roto.Vision.Features.FrameFeatures.ForTracking(),
        PreviewFeatures = anchor == null ? null : Roto.Vision.Features.FrameFeatures.ForTracking(),
        PreviewMatchingMaxFrames = settings.FirstOrDefault(s => s.StartsWith("previewmatching=")) is { } pm ? int.Parse(pm["previewmatching=".Length..]) : new FlowColourPropagator().PreviewMatchingMaxFrames,
        PreviewMatchingSeconds = settings.FirstOrDefault(s => s.StartsWith("previewmatchingseconds=")) is { } ps ? double.Parse(ps["previewmatchingseconds=".Length..], CultureInfo.InvariantCulture) : new FlowColourPropagator().PreviewMatchingSeconds,
        PreviewCorrectionSeconds = settings.FirstOrDefault(s => s.StartsWith("previewcorrectionseconds=")) is { } pc ? double.Parse(pc["previewcorrectionseconds=".Length..], CultureInfo.InvariantCulture) : new FlowColourPropagator().PreviewCorrectionSeconds,
    };
IClickSegmenter segmenter = models != null ? new SamClickSegmenter(models, samOptions) : new FeatureGraphSegmenter();
if (anchor != null) Console.WriteLine($"SAM anchor: {anchorOptions}; one encoder pass {anchor.SecondsPerEncode:F2} s; effort {effort}; working width {width}; blend back {blendBack}");

if (mode == "server")
{
    // bench … server [path/to/Roto.Server.dll] [server.Roto:Key=Value ...] : the Release build of the server, found from
    // the repository root by default; server.X=V arguments go to the server as --X=V.
    var dll = args.Length > 1 ? args[1] : FindUp("src/Roto.Server/bin/Release/net10.0/Roto.Server.dll");
    ServerRun.Run(dll, int.TryParse(Environment.GetEnvironmentVariable("ROTO_BENCH_REPEATS"), out var n) ? n : 3,
        settings.Where(s => s.StartsWith("server.")).Select(s => "--" + s["server.".Length..]));
    return;
}
if (mode == "api")
{
    // bench … api [sequence ...] [server.Roto:Key=Value ...] : click1 and clicks3 through the HTTP API of the Release
    // server, every call timed; server.X=V arguments go to the server as --X=V.
    var serverArgs = settings.Where(s => s.StartsWith("server.")).Select(s => "--" + s["server.".Length..]);
    await ApiDavisRun.RunAsync(Environment.GetEnvironmentVariable("ROTO_BENCH_SERVER") ?? FindUp("src/Roto.Server/bin/Release/net10.0/Roto.Server.dll"), cache, only, serverArgs);
    return;
}
if (mode is "timing" or "all") Timing.Run(propagator);
foreach (var m in mode == "all" ? ["mask", "click1", "clicks3"] : mode == "timing" ? [] : new[] { mode })
{
    Console.WriteLine($"\n## J&F on davis16-dev, mode `{m}` ({propagator.GetType().Name}{(Environment.GetEnvironmentVariable("ROTO_BENCH_FEATURES") == "1" ? " with feature matching" : "")}, {segmenter.GetType().Name})\n");
    Console.WriteLine("| sequence | frames | clicks | J | F | J&F | seconds |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    var rows = new List<(double J, double F)>();
    foreach (var name in DavisSequence.Names().Where(n => only.Count == 0 || only.Contains(n)))
    {
        var seq = DavisSequence.Open(name, cache);
        var sw = Stopwatch.StartNew();
        var result = DavisRun.Run(seq, m, propagator, segmenter, effort);
        var j = result.J.Average();
        var f = result.F.Average();
        rows.Add((j, f));
        Console.WriteLine($"| {name} | {seq.FrameCount} | {result.Clicks} | {j:F3} | {f:F3} | {(j + f) / 2:F3} | {sw.Elapsed.TotalSeconds:F1} |");
    }
    var mj = rows.Average(r => r.J);
    var mf = rows.Average(r => r.F);
    Console.WriteLine($"| **mean** | | | **{mj:F3}** | **{mf:F3}** | **{(mj + mf) / 2:F3}** | |");
}

// Name=Value arguments with the prefix set the options' properties (records' init-only setters are settable by reflection).
T Override<T>(T options, string prefix) where T : class
{
    foreach (var setting in settings.Where(s => s.StartsWith(prefix)))
    {
        var (name, value) = (setting[prefix.Length..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
        var property = typeof(T).GetProperty(name) ?? throw new ArgumentException($"no option {name}");
        property.SetValue(options, Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture));
    }
    return options;
}

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
    throw new FileNotFoundException($"{relative} not found above the current folder; build src/Roto.Server -c Release first");
}

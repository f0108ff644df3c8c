using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;
using Roto.Bench.Tracking;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Evaluation;
using Roto.Vision.Propagation;
using Roto.Vision.Segmentation;

// Usage: Roto.Bench.Tracking [mask|click1|clicks3|timing|all] [sequence ...] | server [Roto.Server.dll]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var mode = args.Length > 0 ? args[0] : "mask";
var only = args.Skip(1).ToHashSet();
var cache = Path.Combine(Path.GetTempPath(), "roto-bench-davis");
Directory.CreateDirectory(cache);
// The served propagator as the server builds it; ROTO_BENCH_FEATURES=1 tracks by feature matching (Roto:Tracking:FeatureMatching).
IMaskPropagator propagator = Environment.GetEnvironmentVariable("ROTO_BENCH_FEATURES") == "1"
    ? new FlowColourPropagator { Features = Roto.Vision.Features.FrameFeatures.ForTracking() }
    : new FlowColourPropagator();
IClickSegmenter segmenter = new FeatureGraphSegmenter();

if (mode == "server")
{
    // bench … server [path/to/Roto.Server.dll] : the Release build of the server, found from the repository root by default.
    var dll = args.Length > 1 ? args[1] : FindUp("src/Roto.Server/bin/Release/net10.0/Roto.Server.dll");
    ServerRun.Run(dll, int.TryParse(Environment.GetEnvironmentVariable("ROTO_BENCH_REPEATS"), out var n) ? n : 3);
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
        var result = DavisRun.Run(seq, m, propagator, segmenter);
        var j = result.J.Average();
        var f = result.F.Average();
        rows.Add((j, f));
        Console.WriteLine($"| {name} | {seq.FrameCount} | {result.Clicks} | {j:F3} | {f:F3} | {(j + f) / 2:F3} | {sw.Elapsed.TotalSeconds:F1} |");
    }
    var mj = rows.Average(r => r.J);
    var mf = rows.Average(r => r.F);
    Console.WriteLine($"| **mean** | | | **{mj:F3}** | **{mf:F3}** | **{(mj + mf) / 2:F3}** | |");
}

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
    throw new FileNotFoundException($"{relative} not found above the current folder; build src/Roto.Server -c Release first");
}

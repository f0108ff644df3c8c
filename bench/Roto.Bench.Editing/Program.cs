using Roto.Bench.Editing;
using Roto.Media;
using Roto.Vision.Removal;

// Usage (from the repository root): dotnet run -c Release --project bench/Roto.Bench.Editing -- [removal|track|timing|profile|api|sheets|all] [--api] [--server URL --key KEY] [--runs N] [--frames N] [--only element,element] [--align] [--trust GREY_LEVELS] [--radius FRAMES] [--stale GREY_LEVELS]
var what = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
var framesArg = Array.IndexOf(args, "--frames");
var maxFrames = framesArg >= 0 ? int.Parse(args[framesArg + 1]) : 50;
var onlyArg = Array.IndexOf(args, "--only");
var only = onlyArg >= 0 ? args[onlyArg + 1] : null;
var trustArg = Array.IndexOf(args, "--trust");
var trust = trustArg >= 0 ? double.Parse(args[trustArg + 1], System.Globalization.CultureInfo.InvariantCulture) : FlowGuidedRemover.DefaultTrustThreshold;
var radiusArg = Array.IndexOf(args, "--radius");
var radius = radiusArg >= 0 ? int.Parse(args[radiusArg + 1], System.Globalization.CultureInfo.InvariantCulture) : FlowGuidedRemover.DefaultMaxRadius;
var staleArg = Array.IndexOf(args, "--stale");
var stale = staleArg >= 0 ? double.Parse(args[staleArg + 1], System.Globalization.CultureInfo.InvariantCulture) : CarriedInpaint.DefaultStaleAfter;
var tools = new MediaTools();
var cvThreadsArg = Array.IndexOf(args, "--cv-threads");
if (cvThreadsArg >= 0) OpenCvSharp.Cv2.SetNumThreads(int.Parse(args[cvThreadsArg + 1]));
Console.WriteLine($"OpenCV threads: {OpenCvSharp.Cv2.GetNumThreads()}");
var outDir = Path.Combine("bench", "out");
Directory.CreateDirectory(outDir);

var serverArg = Array.IndexOf(args, "--server");
var keyArg = Array.IndexOf(args, "--key");
var runsArg = Array.IndexOf(args, "--runs");
// The API modes use a running server (--server URL --key KEY) or start this repository's own (relaxed input profile:
// the removal composites are 854x480 lossless files that Kling's profile rejects; 01_dog.mp4 passes either profile).
// Arguments Roto:Key=Value are further settings of the started server.
RotoServer StartServer() => serverArg >= 0
    ? RotoServer.Existing(args[serverArg + 1], keyArg >= 0 ? args[keyArg + 1] : throw new ArgumentException("--server needs --key"))
    : RotoServer.Start(new Dictionary<string, string>(args.Where(a => a.StartsWith("Roto:") && a.Contains('='))
        .Select(a => KeyValuePair.Create(a[..a.IndexOf('=')], a[(a.IndexOf('=') + 1)..])))
        { ["Roto:Limits:Profile"] = "relaxed" });
using var server = what is "all" || args.Contains("--api") || what == "api" ? StartServer() : null;

if (what is "removal" or "all") RemovalBench.Run(tools, maxFrames, outDir, only, alignLocally: args.Contains("--align"), trust: trust, radius: radius, stale: stale, server: server);
if (what is "track") TrackBench.Run(tools, maxFrames, outDir, only);
if (what is "api" or "all") ApiBench.RunTiming(server!, runsArg >= 0 ? int.Parse(args[runsArg + 1]) : 3);
if (what is "timing" or "all") TimingBench.Run(tools, outDir);
if (what is "profile") ProfileBench.Run(tools, reuseTrack: args.Contains("--reuse-track"), removalOnly: args.Contains("--removal-only"));
if (what is "sheets" or "all") SheetsBench.Run(tools, outDir, maxFrames);

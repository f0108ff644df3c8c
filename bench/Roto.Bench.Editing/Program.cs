using Roto.Bench.Editing;
using Roto.Media;

// Usage (from the repository root): dotnet run -c Release --project bench/Roto.Bench.Editing -- [removal|timing|sheets|all] [--frames N]
var what = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
var framesArg = Array.IndexOf(args, "--frames");
var maxFrames = framesArg >= 0 ? int.Parse(args[framesArg + 1]) : 50;
var tools = new MediaTools();
var outDir = Path.Combine("bench", "out");
Directory.CreateDirectory(outDir);

if (what is "removal" or "all") RemovalBench.Run(tools, maxFrames, outDir);

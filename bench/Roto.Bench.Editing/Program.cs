using Roto.Bench.Editing;
using Roto.Media;

// Usage (from the repository root): dotnet run -c Release --project bench/Roto.Bench.Editing -- [removal|timing|sheets|all] [--frames N] [--only element,element] [--align] [--trust GREY_LEVELS]
var what = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
var framesArg = Array.IndexOf(args, "--frames");
var maxFrames = framesArg >= 0 ? int.Parse(args[framesArg + 1]) : 50;
var onlyArg = Array.IndexOf(args, "--only");
var only = onlyArg >= 0 ? args[onlyArg + 1] : null;
var trustArg = Array.IndexOf(args, "--trust");
var trust = trustArg >= 0 ? double.Parse(args[trustArg + 1], System.Globalization.CultureInfo.InvariantCulture) : 20;
var tools = new MediaTools();
var outDir = Path.Combine("bench", "out");
Directory.CreateDirectory(outDir);

if (what is "removal" or "all") RemovalBench.Run(tools, maxFrames, outDir, only, alignLocally: args.Contains("--align"), trust: trust);
if (what is "timing" or "all") TimingBench.Run(tools, outDir);
if (what is "sheets" or "all") SheetsBench.Run(tools, outDir, maxFrames);

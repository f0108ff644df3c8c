using System.Globalization;

namespace Roto.Bench.Load;

/// <summary>Command line of the load generator (see Usage).</summary>
public sealed class LoadOptions
{
    public const string Usage = """
        Roto load and soak generator: N accounts run the whole flow (upload, init, click, preview, removal task, poll,
        download) in a loop, each with its own API key.

          load  --base-url URL --keys K1,K2,...   against a running server (./run.sh; one account per key)
          load  --start [--accounts N]            starts the server itself (./run.sh) with N keys on a fresh data dir
          soak  [same as load]                    8 accounts, 10 minutes, the server's RSS sampled every 10 s

        Options: --accounts N (default: number of keys, or 4; soak 8)  --minutes M (load 1, soak 10)
                 --pid PID (server process to sample when not started here)  --clip FILE (default: a 2.5 s 720p cut
                 of 01_dog.mp4)  --poll-ms 1000  --port 18080  --profile kling|relaxed  --out FILE (markdown report)
                 --server-env NAME=VALUE (repeatable; environment of a server started here, e.g. DOTNET_gcServer=0)
        """;

    public bool Soak { get; private set; }
    public string? BaseUrl { get; private set; }
    public List<string> Keys { get; private set; } = [];
    public bool Start { get; private set; }
    public int Accounts { get; private set; }
    public double Minutes { get; private set; }
    public int? Pid { get; private set; }
    public string? Clip { get; private set; }
    public int PollMs { get; private set; } = 1000;
    public int Port { get; private set; } = 18080;
    public string Profile { get; private set; } = "kling";
    public string? Out { get; private set; }
    /// <summary>Environment of a server started here (--server-env NAME=VALUE, repeatable), e.g. GC or malloc settings.</summary>
    public List<string> ServerEnv { get; } = [];

    public static LoadOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("load" or "soak")) throw new ArgumentException(Usage);
        var o = new LoadOptions { Soak = args[0] == "soak" };
        for (var i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--base-url": o.BaseUrl = Next().TrimEnd('/'); break;
                case "--keys": o.Keys = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(); break;
                case "--start": o.Start = true; break;
                case "--accounts": o.Accounts = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--minutes": o.Minutes = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--pid": o.Pid = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--clip": o.Clip = Next(); break;
                case "--poll-ms": o.PollMs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--port": o.Port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--profile": o.Profile = Next(); break;
                case "--out": o.Out = Next(); break;
                case "--server-env": o.ServerEnv.Add(Next()); break;
                default: throw new ArgumentException($"unknown option {args[i]}\n{Usage}");
            }
        }
        if (!o.Start && (o.BaseUrl == null || o.Keys.Count == 0)) throw new ArgumentException($"give --base-url and --keys, or --start\n{Usage}");
        if (o.Accounts == 0) o.Accounts = o.Soak ? 8 : o.Keys.Count > 0 ? o.Keys.Count : 4;
        if (o.Minutes == 0) o.Minutes = o.Soak ? 10 : 1;
        if (!o.Start && o.Keys.Count < o.Accounts) throw new ArgumentException($"{o.Accounts} accounts need {o.Accounts} keys; {o.Keys.Count} given");
        return o;
    }
}

using Roto.Cli;

return await RotoCli.RunAsync(args, CliHost.FromProcess());

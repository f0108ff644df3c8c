using Roto.Server;
using Roto.Core;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"] ?? "http://127.0.0.1:8080");
builder.Logging.ClearProviders();
builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
builder.Services.AddRotoCore(builder.Configuration);
builder.Services.AddRotoServer(builder.Configuration);

var app = builder.Build();
await CoreServices.PrepareDatabaseAsync(app.Services);
app.UseRotoPipeline();
app.MapRotoEndpoints();
app.PrintBanner();
await app.RunAsync();

/// <summary>The entry point, public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;

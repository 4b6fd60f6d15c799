using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using OrleansSynth.ML.Runtime;
using OrleansSynth.Silo.Hosting;

// Before anything else (it may start the process again in place): the compute worker's freed tensor memory is kept
// for reuse instead of being faulted in afresh.
NativeAllocator.ConfigureAtStart();

// Content root at the silo's own folder: its appsettings.json (log levels, default URL) applies whatever the working
// directory (`synth` starts a local silo from the user's); relative data paths still resolve against the working
// directory.
var builder = WebApplication.CreateBuilder(
    new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory }
);
var options = builder.Configuration.GetSection(SiloHostOptions.Section).Get<SiloHostOptions>() ?? new SiloHostOptions();
builder.UseOrleans(silo =>
{
    OrleansSynthSilo.Configure(silo, options);
    if (options.Dashboard)
        silo.AddDashboard();
});
builder
    .Services.AddOpenTelemetry()
    .WithMetrics(metrics =>
        metrics
            .AddMeter("Microsoft.Orleans")
            .AddMeter(OrleansSynth.Grains.Compute.ComputeWorker.MeterName)
            .AddMeter(OrleansSynth.Grains.Telemetry.PipelineMetrics.MeterName)
            .AddPrometheusExporter()
    );

var app = builder.Build();
app.MapPrometheusScrapingEndpoint();
app.MapGet("/healthz", () => Results.Ok("ok"));

// The Orleans dashboard (silos, grain activations, calls) under /dashboard, on the same port as /metrics, when switched
// on.
if (options.Dashboard)
    app.MapOrleansDashboard(routePrefix: "/dashboard");
app.Run();

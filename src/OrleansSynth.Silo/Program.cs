using OpenTelemetry.Metrics;
using OrleansSynth.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.GetSection(SiloHostOptions.Section).Get<SiloHostOptions>() ?? new SiloHostOptions();
builder.UseOrleans(silo => OrleansSynthSilo.Configure(silo, options));
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("Microsoft.Orleans")
    .AddMeter(OrleansSynth.Grains.Compute.ComputeWorker.MeterName)
    .AddMeter(OrleansSynth.Grains.Telemetry.PipelineMetrics.MeterName)
    .AddPrometheusExporter());

var app = builder.Build();
app.MapPrometheusScrapingEndpoint();
app.MapGet("/healthz", () => Results.Ok("ok"));
app.Run();

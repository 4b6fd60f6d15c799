using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Hosting;
using Spectre.Console;

namespace OrleansSynth.Cli.Demo;

/// <summary>Runs a pipeline on a silo embedded in this process (local files under the data folder), printing each finished stage.</summary>
internal static class EmbeddedPipeline
{
    /// <param name="internalReportPath">
    /// Where to copy the run's internal report (which released file is which sample, and its nearest real records);
    /// null keeps it in the artifact store only. It names real records: it is for the data holder, never for sharing.
    /// </param>
    public static async Task<int> RunAsync(string runId, PipelineSpec spec, string dataRoot, CancellationToken cancellationToken, string? internalReportPath = null)
    {
        var builder = Host.CreateApplicationBuilder();
        // The console belongs to the progress lines; Orleans start-up notes (GC mode, watchdog) are not for this user.
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
        builder.UseOrleans(silo => OrleansSynthSilo.Configure(silo, new SiloHostOptions { Mode = "embedded", DataRoot = dataRoot, CpuSlots = 1 }));
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var coordinator = host.Services.GetRequiredService<IClusterClient>().GetGrain<IPipelineCoordinatorGrain>(runId);
            var status = await coordinator.Run(spec);
            AnsiConsole.WriteLine($"pipeline {runId} on an embedded silo; data in {dataRoot}");
            var shown = new HashSet<string>();
            while (true)
            {
                foreach (var stage in status.Stages.Where(s => s.State == WorkState.Completed && shown.Add(s.Name)))
                    AnsiConsole.WriteLine($"  done: {stage.Name} ({(stage.FinishedAt - stage.StartedAt)?.TotalSeconds:F0} s) {stage.Detail}");
                if (status.State != WorkState.Running) break;
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                status = await coordinator.GetPipelineStatus();
            }
            if (internalReportPath is not null && await coordinator.GetInternalReport() is { } internalReport)
            {
                var local = await host.Services.GetRequiredService<OrleansSynth.Artifacts.IArtifactStore>().GetLocalPathAsync(internalReport, cancellationToken);
                OrleansSynth.ML.IO.AtomicFile.Write(internalReportPath, writer => writer.Write(File.ReadAllBytes(local)));
                AnsiConsole.WriteLine($"internal report (names real records; not for sharing): {internalReportPath}");
            }
            if (status.State == WorkState.Failed)
            {
                Console.Error.WriteLine($"error: pipeline failed: {status.Error}");
                return 1;
            }
            if (status.State == WorkState.Refused)
            {
                Console.Error.WriteLine($"refused: nothing was released: {status.Error}");
                if (status.ReportPath is not null) AnsiConsole.WriteLine($"report: {status.ReportPath}");
                return 1;
            }
            AnsiConsole.WriteLine($"report: {status.ReportPath}");
            return 0;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Demo;
using OrleansSynth.Grains.Hosting;
using Spectre.Console;

namespace OrleansSynth.Cli.Commands;

/// <summary>
/// <c>synth demo</c>: the whole privacy-distillation pipeline on Fashion-MNIST in this process — an embedded silo
/// with local files under --out — and the path of the report at the end. Re-running it resumes the same run.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "quick (a few minutes) or default (under 30 minutes on 2 cores).", DefaultValueFactory = _ => "default" };
        preset.AcceptOnlyFromAmong("quick", "default");
        var output = new Option<string>("--out") { Description = "Folder for the embedded silo's data and the release.", DefaultValueFactory = _ => "out/demo" };
        var dataset = new Option<string>("--dataset") { Description = "Real dataset (name or path).", DefaultValueFactory = _ => "fashion-mnist" };
        var run = new Option<string?>("--run") { Description = "Run id (default: demo-<preset>); the same id resumes that run." };

        var command = new Command("demo", "Run the whole privacy-distillation pipeline on an embedded silo and print where the report is.")
        {
            preset, output, dataset, run,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            var presetName = parse.GetValue(preset)!;
            var runId = parse.GetValue(run) ?? $"demo-{presetName}";
            var spec = DemoPresets.For(presetName, parse.GetValue(dataset)!, outDir);

            var builder = Host.CreateApplicationBuilder();
            // The console belongs to the progress lines; Orleans start-up notes (GC mode, watchdog) are not for this user.
            builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
            builder.UseOrleans(silo => OrleansSynthSilo.Configure(silo, new SiloHostOptions { Mode = "embedded", DataRoot = Path.Combine(outDir, "data"), CpuSlots = 1 }));
            using var host = builder.Build();
            await host.StartAsync(cancellationToken);
            try
            {
                var coordinator = host.Services.GetRequiredService<IClusterClient>().GetGrain<IPipelineCoordinatorGrain>(runId);
                var status = await coordinator.Run(spec);
                AnsiConsole.WriteLine($"pipeline {runId} ({presetName} preset) on an embedded silo; data in {outDir}");
                var shown = new HashSet<string>();
                while (status.State == WorkState.Running)
                {
                    foreach (var stage in status.Stages.Where(s => s.State == WorkState.Completed && shown.Add(s.Name)))
                        AnsiConsole.WriteLine($"  done: {stage.Name} ({(stage.FinishedAt - stage.StartedAt)?.TotalSeconds:F0} s) {stage.Detail}");
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    status = await coordinator.GetPipelineStatus();
                }
                foreach (var stage in status.Stages.Where(s => s.State == WorkState.Completed && shown.Add(s.Name)))
                    AnsiConsole.WriteLine($"  done: {stage.Name} ({(stage.FinishedAt - stage.StartedAt)?.TotalSeconds:F0} s) {stage.Detail}");
                if (status.State == WorkState.Failed)
                {
                    Console.Error.WriteLine($"error: pipeline failed: {status.Error}");
                    return 1;
                }
                AnsiConsole.WriteLine($"report: {status.ReportPath}");
                return 0;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }));
        return command;
    }
}

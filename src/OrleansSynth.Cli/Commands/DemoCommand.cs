using System.CommandLine;
using OrleansSynth.Cli.Demo;

namespace OrleansSynth.Cli.Commands;

/// <summary>
/// <c>synth demo</c>: the whole pipeline (privacy distillation unless --strategy says otherwise) on Fashion-MNIST in this process — an embedded silo
/// with local files under --out — and the path of the report at the end. Re-running it resumes the same run.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "quick (small models, 300 samples) or default (the full-size run: 1,500 samples, a 3,000-step audit encoder).", DefaultValueFactory = _ => "default" };
        preset.AcceptOnlyFromAmong("quick", "default");
        var output = new Option<string>("--out") { Description = "Folder for the embedded silo's data and the release.", DefaultValueFactory = _ => "out/demo" };
        var dataset = new Option<string>("--dataset") { Description = "Real dataset (name or path).", DefaultValueFactory = _ => "fashion-mnist" };
        var run = new Option<string?>("--run") { Description = "Run id (default: demo-<preset>[-<strategy>]); the same id resumes that run." };
        var strategy = new Option<string>("--strategy") { Description = "distillation, diversity-aware or diversity-aware+distillation.", DefaultValueFactory = _ => "distillation" };
        strategy.AcceptOnlyFromAmong("distillation", "diversity-aware", "diversity-aware+distillation");

        var internalReport = new Option<string?>("--internal-report")
        {
            Description = "Also write the run's internal report here: which released file is which sample, and its nearest real records. It names real records; never share it.",
        };
        var command = new Command("demo", "Run the whole privacy-distillation pipeline on an embedded silo and print where the report is.")
        {
            preset, output, dataset, run, strategy, internalReport,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            var presetName = parse.GetValue(preset)!;
            var strategyName = parse.GetValue(strategy)!;
            var runId = parse.GetValue(run) ?? (strategyName == "distillation" ? $"demo-{presetName}" : $"demo-{presetName}-{strategyName.Replace('+', '-')}");
            var spec = DemoPresets.For(presetName, parse.GetValue(dataset)!, outDir, PipelineSpecFile.ParseStrategy(strategyName)!.Value);

            return await EmbeddedPipeline.RunAsync(runId, spec, Path.Combine(outDir, "data"), cancellationToken, parse.GetValue(internalReport));
        }));
        return command;
    }
}

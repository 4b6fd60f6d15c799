using System.CommandLine;
using OrleansSynth.Cli.Demo;

namespace OrleansSynth.Cli.Commands;

/// <summary><c>synth run --spec run.yaml</c>: a pipeline described by a YAML run spec, on an embedded silo.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var spec = new Option<string>("--spec") { Description = "YAML run spec (see the README).", Required = true };
        var run = new Option<string?>("--run") { Description = "Run id (default: the spec's file name); the same id resumes that run." };
        var internalReport = new Option<string?>("--internal-report")
        {
            Description = "Also write the run's internal report here: which released file is which sample, and its nearest real records. It names real records; never share it.",
        };
        var command = new Command("run", "Run the privacy-distillation pipeline described by a YAML run spec on an embedded silo.") { spec, run, internalReport };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var path = parse.GetValue(spec)!;
            var pipeline = PipelineSpecFile.Load(path);
            var runId = parse.GetValue(run) ?? Path.GetFileNameWithoutExtension(path);
            return await EmbeddedPipeline.RunAsync(runId, pipeline, Path.Combine(pipeline.Output, "data"), cancellationToken, parse.GetValue(internalReport));
        }));
        return command;
    }
}

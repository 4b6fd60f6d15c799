using System.CommandLine;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Runtime;
using OrleansSynth.ML.Training;

namespace OrleansSynth.Lab.Commands;

/// <summary><c>synth sample</c>: a grid of samples per class from a diffusion checkpoint (EMA weights).</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "A checkpoint written by synth train.",
            Required = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "PNG file to write.",
            DefaultValueFactory = _ => "samples.png",
        };
        var perClass = new Option<int>("--per-class") { DefaultValueFactory = _ => 10 };
        var sampler = new Option<string>("--sampler")
        {
            Description = "ddim, dpm-solver++ or ddpm.",
            DefaultValueFactory = _ => SamplerCatalog.Ddim,
        };
        sampler.AcceptOnlyFromAmong([.. SamplerCatalog.Names]);
        var steps = new Option<int>("--steps")
        {
            Description = "Denoising steps of ddim or dpm-solver++ (ddpm always uses every timestep).",
            DefaultValueFactory = _ => 50,
        };
        var eta = new Option<double>("--eta")
        {
            Description = "DDIM noise: 0 deterministic, 1 ancestral-like.",
            DefaultValueFactory = _ => 0.0,
        };
        var guidance = new Option<double>("--guidance")
        {
            Description = "Classifier-free guidance scale (1 = plain conditional).",
            DefaultValueFactory = _ => 2.0,
        };
        var prompt = new Option<string?>("--prompt")
        {
            Description =
                "Text every image is drawn from, for a model trained with reports (guidance applies to it "
                + "as to the label).",
        };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };

        var command = new Command("sample", "Sample a per-class grid from a trained diffusion checkpoint.")
        {
            checkpoint,
            output,
            perClass,
            sampler,
            steps,
            eta,
            guidance,
            prompt,
            seed,
            device,
        };
        command.SetAction(parse =>
            LabErrors.Run(() =>
            {
                var (model, header) = DiffusionCheckpoint.LoadForSampling(
                    parse.GetValue(checkpoint)!,
                    ComputeDevice.Select(parse.GetValue(device))
                );
                using (model)
                {
                    var diffusion = new GaussianDiffusion(header.Config.Diffusion);
                    SampleGrid.Write(
                        model,
                        SamplerCatalog.Create(
                            parse.GetValue(sampler)!,
                            diffusion,
                            parse.GetValue(steps),
                            parse.GetValue(eta)
                        ),
                        parse.GetValue(perClass),
                        parse.GetValue(guidance),
                        parse.GetValue(seed),
                        parse.GetValue(output)!,
                        parse.GetValue(prompt)
                    );
                }
                return Task.FromResult(0);
            })
        );
        return command;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Text;
using OrleansSynth.ML.Training;

namespace OrleansSynth.ML.Release;

/// <summary>
/// A released model as a PyTorch user reads it without .NET: the EMA weights as safetensors, a config.json with the
/// architecture, noise schedule and sampler defaults, and sample.py, which rebuilds the network with PyTorch alone and
/// samples from it; a text model adds its tokenizer's public vocabulary. Nothing of training goes with it (no seed,
/// step, loss history, dataset, report or optimizer state).
/// </summary>
public static class ReleasedModel
{
    public const string WeightsFile = "model.safetensors";
    public const string ConfigFile = "config.json";
    public const string SamplerFile = "sample.py";

    /// <summary>A text model's tokenizer vocabulary (GPT-2's, public): the Python sampler reads prompts with
    /// it.</summary>
    public const string TokenizerFile = "tokenizer.tiktoken";

    public static JsonSerializerOptions Json { get; } =
        new()
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        };

    /// <summary>Writes the folder from a training checkpoint (or a released .ckpt).</summary>
    public static void Write(
        string checkpoint,
        string folder,
        ReleasedSamplerDefaults sampler,
        IReadOnlyList<string>? classNames = null
    )
    {
        Directory.CreateDirectory(folder);
        var (model, header) = DiffusionCheckpoint.LoadForSampling(checkpoint);
        using (model)
            SafetensorsFile.Write(
                Path.Combine(folder, WeightsFile),
                model.state_dict(),
                new Dictionary<string, string> { ["format"] = "pt" }
            );
        var config = new ReleasedModelConfig
        {
            Model = header.Config.Model,
            Diffusion = header.Config.Diffusion,
            Sampler = sampler,
            Classes = classNames ?? Enumerable.Range(0, header.Config.Model.NumClasses).Select(c => $"{c}").ToArray(),
        };
        File.WriteAllBytes(Path.Combine(folder, ConfigFile), JsonSerializer.SerializeToUtf8Bytes(config, Json));
        if (header.Config.Model.Text is not null)
            ReportTokenizer.WriteVocabulary(Path.Combine(folder, TokenizerFile));
        using var script = typeof(ReleasedModel).Assembly.GetManifestResourceStream(SamplerResource)
            ?? throw new InvalidOperationException(
                $"{SamplerResource} is not embedded in {typeof(ReleasedModel).Assembly}."
            );
        using var target = File.Create(Path.Combine(folder, SamplerFile));
        script.CopyTo(target);
    }

    /// <summary>The model of a released folder, in eval mode, and its config.</summary>
    public static (UNet Model, ReleasedModelConfig Config) Load(string folder)
    {
        var config = JsonSerializer.Deserialize<ReleasedModelConfig>(
            File.ReadAllBytes(Path.Combine(folder, ConfigFile)),
            Json
        ) ?? throw new InvalidDataException($"{folder}: {ConfigFile} is empty.");
        if (config.Format != ReleasedModelConfig.FormatName)
            throw new InvalidDataException(
                $"{folder}: {ConfigFile} describes '{config.Format}', not a released model."
            );
        var model = new UNet(config.Model);
        var weights = SafetensorsFile.Read(Path.Combine(folder, config.Weights));
        try
        {
            model.load_state_dict(weights, strict: true);
        }
        finally
        {
            foreach (var tensor in weights.Values)
                tensor.Dispose();
        }
        model.eval();
        return (model, config);
    }

    private const string SamplerResource = "OrleansSynth.ML.Release.sample.py";
}

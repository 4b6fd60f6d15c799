using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using OrleansSynth.ML.IO;
using OrleansSynth.ML.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>
/// One file holding a diffusion training run's full state: a JSON header (config, step, seed, loss history,
/// dataset) then the model, EMA and optimizer tensors, written atomically. Its released form
/// (<see cref="WriteRelease"/>) holds what sampling needs and nothing else.
/// </summary>
public static class DiffusionCheckpoint
{
    private const string Magic = "ORLEANSSYNTH-DIFFUSION-CHECKPOINT";
    private const int FormatVersion = 1;

    /// <summary>A released model: the header's config holds the architecture and noise schedule; the EMA weights follow
    /// alone.</summary>
    private const int ReleaseFormatVersion = 2;

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = false,
        // A diverged run (NaN loss) must still checkpoint so it can be inspected.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public sealed record Header(
        DiffusionModelConfig Config,
        int Step,
        IReadOnlyList<LossPoint> LossHistory,
        string DatasetName
    );

    public static void Save(string path, Header header, UNet model, UNet ema, OptimizerHelper optimizer) =>
        AtomicFile.Write(path, writer =>
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(JsonSerializer.Serialize(header, JsonOptions));
            model.save(writer);
            ema.save(writer);
            optimizer.save_state_dict(writer);
        });

    /// <summary>
    /// Writes from a training checkpoint the model a release hands out: the architecture, the noise schedule and the
    /// EMA weights. No seed or other training setting, no step, loss history or dataset name, no live weights, no
    /// optimizer state. <see cref="LoadForSampling"/> reads it; it cannot resume training.
    /// </summary>
    public static void WriteRelease(string source, string target)
    {
        var (ema, header) = LoadForSampling(source);
        using (ema)
        {
            AtomicFile.Write(target, writer =>
            {
                writer.Write(Magic);
                writer.Write(ReleaseFormatVersion);
                writer.Write(
                    JsonSerializer.Serialize(
                        new { Config = new { header.Config.Model, header.Config.Diffusion } },
                        JsonOptions
                    )
                );
                ema.save(writer);
            });
        }
    }

    public static Header ReadHeader(string path)
    {
        using var reader = OpenAndCheck(path);
        return ReadHeaderBody(reader, path);
    }

    /// <summary>Loads the weights into existing modules; <paramref name="optimizer"/> may be null when only
    /// sampling.</summary>
    public static Header Load(string path, UNet model, UNet ema, OptimizerHelper? optimizer)
    {
        using var reader = OpenAndCheck(path, out var version);
        if (version == ReleaseFormatVersion)
            throw new InvalidDataException(
                $"{path}: a released model holds the EMA weights alone; it samples but cannot resume training."
            );
        var header = ReadHeaderBody(reader, path);
        model.load(reader);
        ema.load(reader);
        optimizer?.load_state_dict(reader);
        return header;
    }

    /// <summary>The EMA weights as a ready-to-sample model in eval mode, from a training checkpoint or a released
    /// model.</summary>
    public static (UNet Model, Header Header) LoadForSampling(string path, Device? device = null)
    {
        var header = ReadHeader(path);
        var model = new UNet(header.Config.Model);
        using (var reader = OpenAndCheck(path, out var version))
        {
            ReadHeaderBody(reader, path);
            if (version == FormatVersion)
            {
                using var live = new UNet(header.Config.Model);
                live.load(reader); // stored first; read past it
            }
            model.load(reader); // the EMA weights sample better than the live ones; a release holds only them
        }
        if (device is not null)
            model.to(device);
        model.eval();
        return (model, header);
    }

    private static BinaryReader OpenAndCheck(string path) => OpenAndCheck(path, out _);

    private static BinaryReader OpenAndCheck(string path, out int version)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic)
                throw new InvalidDataException($"{path}: not an OrleansSynth diffusion checkpoint.");
            version = reader.ReadInt32();
            if (version is not (FormatVersion or ReleaseFormatVersion))
                throw new InvalidDataException(
                    $"{path}: checkpoint format {version} is not supported (expected {FormatVersion} or "
                        + $"{ReleaseFormatVersion})."
                );
            return reader;
        }
        catch (EndOfStreamException e)
        {
            reader.Dispose();
            throw new InvalidDataException($"{path}: checkpoint is truncated.", e);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private static Header ReadHeaderBody(BinaryReader reader, string path)
    {
        var json =
            JsonNode.Parse(reader.ReadString()) as JsonObject
            ?? throw new InvalidDataException($"{path}: checkpoint header is empty.");
        // A released model's header holds only the config's architecture and schedule: the run's own fields read as
        // empty.
        json.TryAdd(nameof(Header.Step), 0);
        json.TryAdd(nameof(Header.LossHistory), new JsonArray());
        json.TryAdd(nameof(Header.DatasetName), "");
        // A run checkpointed before the cosine decay, min-SNR weighting and bfloat16 working copy existed trained
        // without them: resumed, it goes on without them rather than switching recipe midway under today's defaults.
        if (json["Config"]?["Training"] is JsonObject training)
        {
            training.TryAdd(nameof(TrainingConfig.CosineDecay), false);
            training.TryAdd(nameof(TrainingConfig.MinSnrGamma), 0);
            training.TryAdd(nameof(TrainingConfig.BFloat16), false);
        }
        return json.Deserialize<Header>(JsonOptions)
            ?? throw new InvalidDataException($"{path}: checkpoint header is empty.");
    }
}

using System.Text.Json;
using OrleansSynth.ML.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace OrleansSynth.ML.Training;

/// <summary>
/// Checkpoint of a single-network training run (classifier, re-identification encoder): a JSON header of type
/// <typeparamref name="THeader"/>, the module's weights and the optimizer state. Written atomically.
/// </summary>
public static class ModelCheckpoint<THeader>
{
    public static void Save(
        string path,
        string magic,
        THeader header,
        torch.nn.Module module,
        OptimizerHelper? optimizer
    ) => AtomicFile.Write(path, writer =>
        {
            writer.Write(magic);
            writer.Write(JsonSerializer.Serialize(header, DiffusionCheckpoint.JsonOptions));
            module.save(writer);
            writer.Write(optimizer is not null);
            optimizer?.save_state_dict(writer);
        });

    public static THeader ReadHeader(string path, string magic)
    {
        using var reader = Open(path, magic);
        return ReadHeaderBody(reader, path);
    }

    /// <summary>Loads weights (and optimizer state, when both the file and the caller have one) into existing
    /// objects.</summary>
    public static THeader Load(string path, string magic, torch.nn.Module module, OptimizerHelper? optimizer)
    {
        using var reader = Open(path, magic);
        var header = ReadHeaderBody(reader, path);
        module.load(reader);
        if (reader.ReadBoolean() && optimizer is not null)
            optimizer.load_state_dict(reader);
        return header;
    }

    private static BinaryReader Open(string path, string magic)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != magic)
                throw new InvalidDataException($"{path}: not a {magic} checkpoint.");
            return reader;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            reader.Dispose();
            throw e as InvalidDataException ?? new InvalidDataException($"{path}: checkpoint is truncated.", e);
        }
    }

    private static THeader ReadHeaderBody(BinaryReader reader, string path) =>
        JsonSerializer.Deserialize<THeader>(reader.ReadString(), DiffusionCheckpoint.JsonOptions)
        ?? throw new InvalidDataException($"{path}: checkpoint header is empty.");
}

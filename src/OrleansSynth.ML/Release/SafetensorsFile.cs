using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Release;

/// <summary>
/// Float32 tensors in the safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian values. Written here directly: the
/// format is a page long, and PyTorch, JAX and the `safetensors` package all read it without running any code.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>A header longer than this is refused before it is read.</summary>
    private const long MaxHeaderBytes = 16 * 1024 * 1024;

    public static void Write(
        string path,
        IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(
                metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))
            );
        var blobs = new List<float[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            using var values = tensor.detach().to(CPU).to_type(ScalarType.Float32).contiguous();
            var data = values.data<float>().ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + data.Length * 4L),
            };
            blobs.Add(data);
            offset += data.Length * 4L;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The data section starts 8-byte aligned, as the format recommends, padded with spaces.
        var padded = (json.Length + 7) / 8 * 8;
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (var i = json.Length; i < padded; i++)
            file.WriteByte((byte)' ');
        foreach (var data in blobs)
        {
            var bytes = new byte[data.Length * 4];
            for (var i = 0; i < data.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
            file.Write(bytes);
        }
    }

    /// <summary>Every tensor in the file, by name, as float32 on the CPU.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        file.ReadExactly(length);
        var headerBytes = BinaryPrimitives.ReadUInt64LittleEndian(length);
        if (headerBytes > (ulong)Math.Min(MaxHeaderBytes, file.Length - 8))
            throw new InvalidDataException($"{path}: not a safetensors file (header of {headerBytes} bytes).");
        var json = new byte[headerBytes];
        file.ReadExactly(json);
        var dataStart = 8 + (long)headerBytes;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, node) in JsonNode.Parse(json)!.AsObject())
        {
            if (name == "__metadata__")
                continue;
            var entry = node!.AsObject();
            if ((string?)entry["dtype"] != "F32")
                throw new InvalidDataException($"{path}: tensor '{name}' is {entry["dtype"]}; only F32 is read here.");
            var shape = entry["shape"]!.AsArray().Select(d => (long)d!).ToArray();
            var offsets = entry["data_offsets"]!.AsArray().Select(o => (long)o!).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets[1] - offsets[0] != count * 4 || dataStart + offsets[1] > file.Length)
                throw new InvalidDataException($"{path}: tensor '{name}' does not fit its declared byte range.");
            var bytes = new byte[count * 4];
            file.Position = dataStart + offsets[0];
            file.ReadExactly(bytes);
            var values = new float[count];
            for (var i = 0; i < values.Length; i++)
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            tensors[name] = tensor(values, shape);
        }
        return tensors;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Release;
using OrleansSynth.ML.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// A released model read by PyTorch alone: Debian's python3-torch runs the release's sample.py on the safetensors
/// weights and config.json, and from the same starting noise draws the images the C# samplers draw.
/// </summary>
[Collection(FashionMnistCollection.Name)]
public class ReleasedModelTests(FashionMnistFixture fashion, ITestOutputHelper output)
{
    /// <summary>
    /// Two libtorch builds (TorchSharp's and Debian's) agree to rounding, not bit for bit; guidance and the x0
    /// estimate's division by sqrt(alpha-bar) amplify it. 1e-3 of the [-1, 1] range is an eighth of an 8-bit grey
    /// level.
    /// </summary>
    private const float Tolerance = 1e-3f;

    [Fact]
    public void PyTorchAloneRebuildsTheReleasedModelAndSamplesWhatTheCSharpSamplersSample()
    {
        using var files = new TestFiles();
        var checkpoint = files.PathOf("run.ckpt");
        using (var trainer = new DiffusionTrainer(TinyModels.Diffusion(steps: 10)))
            trainer.Train(fashion.BalancedTrainSubset(10), checkpoint);
        var folder = files.PathOf("model");
        ReleasedModel.Write(checkpoint, folder, new ReleasedSamplerDefaults(SamplerCatalog.Ddim, 6, 0, 2.0));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, ReleasedModel.ConfigFile)))!;
        Assert.Equal("cosine", (string?)config["diffusion"]!["schedule"]);
        Assert.Equal(16, (int)config["model"]!["base_channels"]!);
        Assert.Equal("ddim", (string?)config["sampler"]!["name"]);

        var (model, released) = ReleasedModel.Load(folder);
        var (ema, _) = DiffusionCheckpoint.LoadForSampling(checkpoint);
        using (model)
        using (ema)
        {
            // The safetensors hold exactly the EMA weights.
            foreach (var (name, weights) in ema.state_dict())
                Assert.True(weights.eq(model.state_dict()[name]).all().item<bool>(), name);

            long[] labels = [0, 3, 7, model.Config.NullLabel];
            const long seed = 11;
            using var noise = randn([labels.Length, 1, 28, 28], generator: new Generator(seed, CPU));
            WriteNpy(files.PathOf("noise.npy"), noise);
            var diffusion = new GaussianDiffusion(released.Diffusion);
            foreach (
                var (sampler, guidance) in new[] { (SamplerCatalog.Ddim, 2.0), (SamplerCatalog.DpmSolverPlusPlus, 1.0) }
            )
            {
                using var expected = SamplerCatalog
                    .Create(sampler, diffusion, steps: 6)
                    .Sample(model, new SamplingRequest(labels, seed, guidance));
                var array = files.PathOf($"{sampler}.npy");
                RunPython(
                    Path.Combine(folder, ReleasedModel.SamplerFile),
                    "--labels",
                    string.Join(",", labels),
                    "--noise",
                    files.PathOf("noise.npy"),
                    "--array",
                    array,
                    "--sampler",
                    sampler,
                    "--steps",
                    "6",
                    "--guidance",
                    guidance.ToString(CultureInfo.InvariantCulture)
                );
                using var actual = ReadNpy(array);
                Assert.Equal(expected.shape, actual.shape);
                var largest = (expected - actual).abs().max().item<float>();
                output.WriteLine($"{sampler}, guidance {guidance}: largest difference {largest:G3}");
                Assert.True(largest < Tolerance, $"{sampler}: PyTorch's images differ from C#'s by up to {largest}");
            }
        }
    }

    /// <summary>
    /// A model trained with reports, released: PyTorch reads its prompt with the release's tokenizer file and draws
    /// the image C# draws for the same prompt, and nothing of the training reports is in the folder.
    /// </summary>
    [Fact]
    public void PyTorchPromptsAReleasedTextModelAsCSharpDoes()
    {
        using var files = new TestFiles();
        var checkpoint = files.PathOf("run.ckpt");
        var text = new Models.TextEncoderConfig
        {
            Dim = 16,
            Heads = 2,
            Layers = 1,
            MaxTokens = 24,
            // Only the words of "a bright coat" are known: the rest of each prompt reads as unknown on both sides.
            KnownTokens = [.. Text.ReportTokenizer.Encode("a bright coat").Order()],
        };
        var tiny = TinyModels.Diffusion(steps: 6);
        var subset = fashion.BalancedTrainSubset(4);
        const string secret = "patient zebulon quartermaine";
        var withReports = new Data.ImageDataset(subset.Name, subset.Pixels, 1, 28, 28, subset.Labels, subset.RecordIds)
        {
            Reports = subset.Labels.Select(l => $"{secret} has a garment of class {l}").ToArray(),
        };
        using (var trainer = new DiffusionTrainer(tiny with { Model = tiny.Model with { Text = text } }))
            trainer.Train(withReports, checkpoint);
        var folder = files.PathOf("model");
        ReleasedModel.Write(checkpoint, folder, new ReleasedSamplerDefaults(SamplerCatalog.Ddim, 5, 0, 2.0));
        foreach (var file in Directory.GetFiles(folder))
            Assert.DoesNotContain("zebulon", File.ReadAllText(file), StringComparison.OrdinalIgnoreCase);

        var (model, released) = ReleasedModel.Load(folder);
        using (model)
        {
            // ASCII, punctuation, digits and a word beyond ASCII, each tokenized by both sides.
            foreach (var prompt in new[] { "A bright coat, size 42!", "Épanchement pleural gauche" })
            {
                long[] labels = [4, 4];
                const long seed = 3;
                using var noise = randn([labels.Length, 1, 28, 28], generator: new Generator(seed, CPU));
                WriteNpy(files.PathOf("noise.npy"), noise);
                var request = new SamplingRequest(labels, seed, 2.0)
                {
                    PromptTokens = new Text.ReportTokenizer(text).Rows([prompt, prompt]),
                };
                using var expected = new DdimSampler(new GaussianDiffusion(released.Diffusion), 5).Sample(
                    model,
                    request
                );
                var array = files.PathOf("prompted.npy");
                RunPython(
                    Path.Combine(folder, ReleasedModel.SamplerFile),
                    "--labels",
                    "4,4",
                    "--noise",
                    files.PathOf("noise.npy"),
                    "--array",
                    array,
                    "--prompt",
                    prompt
                );
                using var actual = ReadNpy(array);
                var largest = (expected - actual).abs().max().item<float>();
                output.WriteLine($"'{prompt}': largest difference {largest:G3}");
                Assert.True(largest < Tolerance, $"'{prompt}': PyTorch's images differ from C#'s by up to {largest}");
            }
        }
    }

    /// <summary>Debian's python3 with python3-torch (ORLEANSSYNTH_PYTHON overrides), not whatever python3 is
    /// first.</summary>
    private static string Python =>
        Environment.GetEnvironmentVariable("ORLEANSSYNTH_PYTHON") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/python3") ? "/usr/bin/python3"
        : "python3";

    private static void RunPython(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "sample.py did not finish in 3 minutes");
        Assert.True(
            process.ExitCode == 0,
            $"{Python} sample.py exited {process.ExitCode} (scripts/install-prerequisites.sh installs python3-torch):\n"
                + $"{text}\n{errors.Result}"
        );
    }

    private static void WriteNpy(string path, Tensor values)
    {
        var shape = string.Join(", ", values.shape) + (values.shape.Length == 1 ? "," : "");
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}";
        header = header.PadRight((header.Length + 11) / 64 * 64 + 64 - 11) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, .. "NUMPY"u8, 1, 0]);
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.ASCII.GetBytes(header));
        foreach (var value in values.contiguous().data<float>().ToArray())
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            file.Write(bytes);
        }
    }

    private static Tensor ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0x93, bytes[0]);
        var (length, start) =
            bytes[6] == 1
                ? (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)), 10)
                : ((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), 12);
        var header = Encoding.ASCII.GetString(bytes, start, length);
        Assert.Contains("'<f4'", header);
        var dims = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        var shape = dims[..dims.IndexOf(')')]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(long.Parse)
            .ToArray();
        var values = new float[(bytes.Length - start - length) / 4];
        for (var i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start + length + i * 4));
        return tensor(values, shape);
    }
}

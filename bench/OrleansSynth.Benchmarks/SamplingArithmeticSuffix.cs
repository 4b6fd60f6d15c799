using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// A sampling recipe's optional "+float32" or "+bfloat16": the arithmetic its model computes in. Without one the
/// recipe samples as the pipeline does (<see cref="SamplingArithmetic"/>), so a 32-bit row stays reproducible on any
/// CPU only with "+float32".
/// </summary>
internal static class SamplingArithmeticSuffix
{
    /// <summary>The recipe without its suffix, and the arithmetic it asks for (null: the pipeline's).</summary>
    public static (string Recipe, bool? BFloat16) Split(string spec) =>
        spec.Split('+') switch
        {
            [var recipe] => (recipe, null),
            [var recipe, "float32"] => (recipe, false),
            [var recipe, "bfloat16"] => (recipe, true),
            _ => throw new ArgumentException($"'{spec}': the arithmetic after '+' is float32 or bfloat16."),
        };

    /// <summary>A fresh model per recipe, on the CPU, in the arithmetic asked for (converting one back would not
    /// restore its 32-bit weights).</summary>
    public static (UNet Model, DiffusionCheckpoint.Header Header) Load(string checkpoint, bool? bfloat16)
    {
        var (model, header) = DiffusionCheckpoint.LoadForSampling(checkpoint, CPU);
        SamplingArithmetic.Apply(model, bfloat16 ?? SamplingArithmetic.UsesBFloat16(CPU));
        return (model, header);
    }
}

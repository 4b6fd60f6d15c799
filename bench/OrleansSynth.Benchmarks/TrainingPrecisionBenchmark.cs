using OrleansSynth.ML.Data;
using OrleansSynth.ML.Diffusion;
using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using OrleansSynth.ML.Training;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The diffusion trainer's real loop on Fashion-MNIST, the default preset's teacher (32 base channels, batch 64,
/// record features), timed in 32-bit floats and on its bfloat16 working copy, in turn, so both see the machine's pace
/// of the same minutes. Times only: whether the teacher's twins keep their utility is the main job's question.
/// </summary>
internal static class TrainingPrecisionBenchmark
{
    /// <param name="rounds">Each round trains both once; medians are compared.</param>
    public static void Run(int steps, int rounds)
    {
        Console.WriteLine(
            $"training precision benchmark: {steps} steps after 10, {rounds} rounds, torch threads "
                + $"{get_num_threads()}, bfloat16 native on this CPU: {BFloat16Arithmetic.IsNativeOnCpu}"
        );
        var training = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        // Any unit vectors will do for timing: the teacher's are the feature extractor's 128 features.
        using var features = randn(training.Count, 128);
        using var conditions = nn.functional.normalize(features, p: 2, dim: 1);
        double TrainingSeconds(bool bf16)
        {
            var config = new DiffusionModelConfig
            {
                Model = new UNetConfig { BaseChannels = 32, ExtraConditionDim = 128 },
                Diffusion = new DiffusionConfig { Timesteps = 1000, Schedule = NoiseScheduleKind.Cosine },
                Training = new TrainingConfig
                {
                    Steps = 10 + steps,
                    BatchSize = 64,
                    CheckpointEvery = 0,
                    BFloat16 = bf16,
                },
            };
            using var trainer = new DiffusionTrainer(config, CPU);
            trainer.Train(training, stopAfterStep: 10, recordConditions: conditions);
            return RoundTiming.Seconds(() => trainer.Train(training, recordConditions: conditions));
        }
        RoundTiming.CompareArithmetics("trainer", steps, rounds, TrainingSeconds);
    }
}

using OrleansSynth.ML.Audit;
using OrleansSynth.ML.Data;
using OrleansSynth.ML.Runtime;
using static TorchSharp.torch;

namespace OrleansSynth.Benchmarks;

/// <summary>
/// The pair verifier's training (its real loop on Fashion-MNIST's training split) timed with its convolutions in 32-bit
/// floats and in bfloat16, in turn, so both see the machine's pace of the same minutes. Times only: whether bfloat16
/// keeps the recall is the planted benchmark's question.
/// </summary>
internal static class AuditPrecisionBenchmark
{
    /// <param name="rounds">Each round trains both once; medians are compared.</param>
    public static void Run(int verifierSteps, int rounds)
    {
        Console.WriteLine(
            $"audit precision benchmark: verifier {verifierSteps} steps, {rounds} rounds, "
                + $"torch threads {get_num_threads()}, bfloat16 native on this CPU: {BFloat16Arithmetic.IsNativeOnCpu}"
        );
        var training = DatasetCatalog.Load("fashion-mnist", DatasetSplit.Train);
        // The verifier's look-alikes come from an encoder; any will do for timing, so a short one.
        using var lookAlikeModel = ReidentificationTrainer.Train(
            training,
            new ReidentificationEncoderConfig { Steps = 20 }
        );
        using var embeddingTensor = AuditReference.Embed(lookAlikeModel, training);
        var embeddings = EmbeddingSet.FromTensor(embeddingTensor, training.RecordIds, lookAlikeModel.Fingerprint);
        double TrainingSeconds(bool bf16) =>
            RoundTiming.Seconds(() =>
                PairVerifierTrainer
                    .Train(training, embeddings, new PairVerifierConfig { Steps = verifierSteps, BFloat16 = bf16 })
                    .Dispose()
            );
        RoundTiming.CompareArithmetics("verifier", verifierSteps, rounds, TrainingSeconds);
    }
}

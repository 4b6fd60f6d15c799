using System.Diagnostics;
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
        var times = new Dictionary<string, List<double>>();
        void Time(string name, Action train)
        {
            var watch = Stopwatch.StartNew();
            train();
            var milliseconds = watch.Elapsed.TotalMilliseconds;
            if (!times.TryGetValue(name, out var list))
                times[name] = list = [];
            list.Add(milliseconds);
        }
        for (var round = 0; round < rounds; round++)
        {
            // Each round starts with the other one, so neither always meets the machine's first or later minutes.
            foreach (var bf16 in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                var precision = bf16 ? "bfloat16" : "float32";
                Time($"verifier {precision}", () =>
                    PairVerifierTrainer
                        .Train(training, embeddings, new PairVerifierConfig { Steps = verifierSteps, BFloat16 = bf16 })
                        .Dispose()
                );
            }
            Console.WriteLine(
                $"round {round + 1}: " + string.Join(", ", times.Select(t => $"{t.Key} {t.Value[^1] / 1000:F1} s"))
            );
        }
        foreach (var (name, list) in times)
        {
            var median = list.Order().ElementAt(list.Count / 2);
            Console.WriteLine($"{name}: median {median / 1000:F1} s, {median / verifierSteps:F1} ms a step");
        }
    }
}

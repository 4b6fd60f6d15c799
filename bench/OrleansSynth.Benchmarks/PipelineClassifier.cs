using OrleansSynth.ML.Classification;
using OrleansSynth.ML.Data;

namespace OrleansSynth.Benchmarks;

/// <summary>The pipeline's utility classifier (its recipe as the training-run grain sets it), trained on a set and
/// tested on the real test split.</summary>
public static class PipelineClassifier
{
    public static ClassifierEvaluation Score(ImageDataset training, ImageDataset test, int steps)
    {
        using var trainer = new ClassifierTrainer(
            new ClassifierConfig
            {
                ImageChannels = training.Channels,
                ImageSize = training.Height,
                NumClasses = training.NumClasses,
                Steps = steps,
                BatchSize = 128,
                LearningRate = 1e-3,
                CosineDecay = true,
            }
        );
        trainer.Train(training);
        return ClassifierTrainer.Evaluate(trainer.Model, test);
    }
}

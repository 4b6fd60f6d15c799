using OrleansSynth.Abstractions;

namespace OrleansSynth.Cli.Specs;

/// <summary>
/// The three `synth demo` presets on Fashion-MNIST, also the base of a run spec (its `preset` key). Sizes are chosen
/// for 2 CPU cores: quick releases under the default gate within 10 minutes from empty on a 6,000-record slice
/// (<see cref="QuickDataset"/>), default aims at a useful synthetic-trained classifier within half an hour once the
/// dataset's audit models are trained, long at a closer one within two hours. Each runs any strategy; for the
/// diversity-aware ones the sample count is the number of real records twinned. Default and long have the users'
/// audit (<see cref="AuditDefaults"/>); quick a smaller one of the same kind, which the same gate judges by its
/// canaries.
/// </summary>
internal static class DemoPresets
{
    public static readonly string[] Names = ["quick", "default", "long"];

    /// <summary>The dataset <c>synth demo</c> runs a preset on unless told otherwise: quick on the first 6,000 training
    /// records of Fashion-MNIST, where its smaller audit models reach the default gate's canary recall.</summary>
    public const string QuickDataset = "fashion-mnist-6k";

    public static string DatasetFor(string preset) => preset == "quick" ? QuickDataset : "fashion-mnist";

    /// <summary>
    /// The strategy of <c>synth demo</c> and of a run spec that names none: twins, which released a closer synthetic
    /// set sooner than the distillation student at every preset measured (docs/results.md, "Which strategy a new user
    /// gets"). It releases no model; the distillation strategies do.
    /// </summary>
    public const PipelineStrategy DefaultStrategy = PipelineStrategy.DiversityAware;

    public static PipelineSpec For(
        string preset,
        string dataset,
        string output,
        PipelineStrategy strategy = DefaultStrategy
    )
    {
        var (spec, twinRecords, twins) = preset switch
        {
            "quick" => (
                // 150-step models and 100-step classifiers: a release in under 10 minutes from empty, with the
                // audit's models (about 5 of them) at the size whose canaries clear the default gate.
                new PipelineSpec(
                    dataset,
                    Teacher: Diffusion(steps: 150),
                    Student: Student(steps: 150),
                    SampleCount: 300,
                    ShardSize: 100,
                    Gate: new PipelinePolicy(MinimumSamples: 150, RequireApproval: false),
                    Output: output,
                    Guidance: 2.0,
                    SamplerSteps: 10,
                    ClassifierSteps: 100,
                    // On the 6,000-record slice, negatives among each record's 2 nearest: 95.6% of the planted
                    // compound copies, 1.9% of unseen images, 99.0% of the canaries, 243 s to train (docs/results.md,
                    // "Batch normalisation in the encoder too").
                    EncoderSteps: 1000,
                    Alpha: AuditDefaults.Alpha,
                    VerifierSteps: 4000,
                    VerifierBatch: 64,
                    VerifierLookAlikes: 2
                ),
                300,
                ThreeTwinsAt(1.4)
            ),
            // Twins: 4,500 records at w = 1 (one network evaluation per step, no unconditional branch), three each:
            // 13,500 twins for the sampling time 4,500 took at w = 1.4, and a classifier on them 1.3 points closer to
            // real (docs/lab-notebook.md: the twin-recipe benchmark).
            "default" => (
                new PipelineSpec(
                    dataset,
                    Teacher: Diffusion(steps: 2400),
                    Student: Student(steps: 1200),
                    SampleCount: 1500,
                    ShardSize: 250,
                    Gate: new PipelinePolicy(MinimumSamples: 1000, RequireApproval: false),
                    Output: output,
                    Guidance: 2.0,
                    SamplerSteps: 15,
                    EncoderSteps: AuditDefaults.EncoderSteps,
                    ClassifierSteps: 800,
                    Alpha: AuditDefaults.Alpha,
                    VerifierSteps: AuditDefaults.VerifierSteps
                ),
                4500,
                ThreeTwinsAt(1.0)
            ),
            // Default's measured ceiling was then the teacher (docs/lab-notebook.md): half again its width, twice its
            // steps, and the default's twin recipe. At this width 4,500 records at w = 1 took the gap from 4.7 points
            // (3,000 records at w = 1.4) to 4.1 and the twins stage from 1,113 s to 621 s.
            "long" => (
                new PipelineSpec(
                    dataset,
                    Teacher: Diffusion(steps: 4800, baseChannels: 48),
                    Student: Student(steps: 2400, baseChannels: 48),
                    SampleCount: 3000,
                    ShardSize: 250,
                    Gate: new PipelinePolicy(MinimumSamples: 2000, RequireApproval: false),
                    Output: output,
                    Guidance: 2.0,
                    SamplerSteps: 15,
                    EncoderSteps: AuditDefaults.EncoderSteps,
                    ClassifierSteps: 1600,
                    Alpha: AuditDefaults.Alpha,
                    VerifierSteps: AuditDefaults.VerifierSteps
                ),
                4500,
                ThreeTwinsAt(1.0)
            ),
            _ => throw new ArgumentException($"Unknown preset '{preset}'; use {string.Join(", ", Names)}."),
        };
        return spec with
        {
            Strategy = strategy,
            // For the twin strategies the count is the number of real records twinned.
            SampleCount = strategy is PipelineStrategy.Distillation ? spec.SampleCount : twinRecords,
            // DPM-Solver++ at 15 steps beat DDIM at 25 on Fréchet distance in 57% of the time (README, "Samplers").
            Sampler = DiffusionSamplerKind.DpmSolverPlusPlus,
            Diversity = twins,
        };
    }

    // Every unlinked candidate kept: more twins for the same sampling work narrowed the utility gap more than best-of-K
    // did.
    private static DiversityOptions ThreeTwinsAt(double guidance) =>
        new(Candidates: 3, Guidance: guidance, TwinsPerRecord: 3);

    private static TrainingRunSpec Diffusion(int steps, int baseChannels = 32, double learningRate = 1e-3) =>
        new(
            "",
            Steps: steps,
            BatchSize: 64,
            BaseChannels: baseChannels,
            Timesteps: 1000,
            LearningRate: learningRate,
            CheckpointEvery: 200
        );

    // The student has half the teacher's steps: at 1,200 steps a peak rate of 2e-3 took a model's samples from a
    // Fréchet distance of 39.2 to 28.6 (3e-3: 26.3; `sampler-fidelity 1200 1000 dpm-solver++:15 <cache> <rate>`,
    // docs/lab-notebook.md); in the default pipeline it took the student's twins from 96.0 to 88.6, not their utility
    // gap. The teacher keeps 1e-3: its twins met their goal with it.
    private static TrainingRunSpec Student(int steps, int baseChannels = 32) =>
        Diffusion(steps, baseChannels, learningRate: 2e-3);
}

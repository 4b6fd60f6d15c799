using OrleansSynth.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace OrleansSynth.Cli.Specs;

/// <summary>
/// A pipeline run spec in YAML (camelCase keys). Unknown keys are errors, so a typo never silently falls back to
/// a default; a key left out takes the value of the <c>synth demo</c> preset the spec names (<see cref="DemoPresets"/>;
/// default: default). Example:
/// <code>
/// dataset: fashion-mnist
/// preset: default               # or quick, or long: the values of every key left out
/// strategy: diversity-aware     # or distillation, or diversity-aware+distillation
/// output: out/my-run
/// teacher: { steps: 2400 }
/// student: { steps: 1200 }
/// # count: real records twinned (distillation: samples); or sampler: ddim
/// sampling: { count: 4500, shardSize: 250, guidance: 2.0, sampler: dpm-solver++, steps: 15, labels: balanced }
/// audit: { alpha: 0.02, encoderSteps: 1000, canaries: 200, verifierSteps: 14000, verifierBatch: 128,
///   verifierLookAlikes: 8 }
/// gate: { minimumSamples: 1000, requireApproval: false, minimumCanaryRecall: 0.95, studentFlaggedRateCeiling: 0.05 }
/// utility: { classifierSteps: 800 }
/// diversity: { candidates: 3, guidance: 1.0, guidanceStep: 0.1, guidanceFloor: 0.5, linkPenalty: 1.0,
///   twinsPerRecord: 3 }
/// </code>
/// </summary>
internal static class PipelineSpecFile
{
    /// <summary>Where run outputs may go unless told otherwise: below the current directory.</summary>
    public const string OutputRootVariable = "ORLEANSSYNTH_OUTPUT_ROOT";

    /// <param name="outputRoot">The folder every output must stay inside (default: <see cref="OutputRootVariable"/>,
    /// else the current directory).</param>
    public static PipelineSpec Load(string path, string? outputRoot = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: run spec not found.", path);
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        Document document;
        try
        {
            document = deserializer.Deserialize<Document>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: the run spec is empty.");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}: line {e.Start.Line}: {(e.InnerException ?? e).Message}", e);
        }
        if (string.IsNullOrWhiteSpace(document.Dataset))
            throw new InvalidDataException($"{path}: 'dataset' is required.");
        var strategy = ParseStrategy(document.Strategy)
            ?? throw new InvalidDataException(
                $"{path}: strategy '{document.Strategy}' is unknown; use {string.Join(", ", Strategies.Keys)}."
            );
        if (!DemoPresets.Names.Contains(document.Preset))
            throw new InvalidDataException(
                $"{path}: preset '{document.Preset}' is unknown; use {string.Join(", ", DemoPresets.Names)}."
            );
        var root = Path.TrimEndingDirectorySeparator(
            Path.GetFullPath(
                outputRoot
                    ?? (
                        Environment.GetEnvironmentVariable(OutputRootVariable) is { Length: > 0 } r
                            ? r
                            : Directory.GetCurrentDirectory()
                    )
            )
        );
        // Relative outputs are relative to the root, which is the current directory unless set.
        var output = Path.GetFullPath(
            document.Output ?? Path.Combine("out", Path.GetFileNameWithoutExtension(path)),
            root
        );
        if (output != root && !output.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException(
                $"{path}: 'output' {output} is outside the allowed output root {root}; choose a folder inside it "
                    + $"(or set {OutputRootVariable})."
            );

        var preset = DemoPresets.For(document.Preset, document.Dataset, output, strategy);
        var (sampling, audit, gate) = (document.Sampling, document.Audit, document.Gate);
        var verifierSteps = audit.VerifierSteps ?? preset.VerifierSteps;
        if (verifierSteps < 0)
            throw new InvalidDataException($"{path}: audit.verifierSteps must not be negative, was {verifierSteps}.");
        return preset with
        {
            Teacher = document.Teacher.ToSpec(preset.Teacher),
            Student = document.Student.ToSpec(preset.Student),
            SampleCount = sampling.Count ?? preset.SampleCount,
            ShardSize = sampling.ShardSize ?? preset.ShardSize,
            Guidance = sampling.Guidance ?? preset.Guidance,
            SamplerSteps = sampling.Steps ?? preset.SamplerSteps,
            Sampler = sampling.Sampler is null
                ? preset.Sampler
                : ParseSampler(sampling.Sampler)
                    ?? throw new InvalidDataException(
                        $"{path}: sampling.sampler '{sampling.Sampler}' is unknown; use ddim or dpm-solver++."
                    ),
            MatchRealLabels = sampling.Labels switch
            {
                null => preset.MatchRealLabels,
                "balanced" => false,
                "real" => true,
                var other => throw new InvalidDataException(
                    $"{path}: sampling.labels must be 'balanced' or 'real', not '{other}'."
                ),
            },
            Alpha = audit.Alpha ?? preset.Alpha,
            EncoderSteps = audit.EncoderSteps ?? preset.EncoderSteps,
            Canaries = audit.Canaries ?? preset.Canaries,
            VerifierSteps = verifierSteps,
            VerifierBatch = audit.VerifierBatch ?? preset.VerifierBatch,
            VerifierLookAlikes = audit.VerifierLookAlikes ?? preset.VerifierLookAlikes,
            Gate = new PipelinePolicy(
                gate.MinimumSamples ?? preset.Gate.MinimumSamples,
                gate.RequireApproval ?? preset.Gate.RequireApproval,
                gate.MinimumCanaryRecall ?? preset.Gate.MinimumCanaryRecall,
                gate.StudentFlaggedRateCeiling ?? preset.Gate.StudentFlaggedRateCeiling
            ),
            ClassifierSteps = document.Utility.ClassifierSteps ?? preset.ClassifierSteps,
            Diversity = document.Diversity.ToOptions(preset.Diversity!, path),
            Description = document.Release.ToDescription(),
        };
    }

    /// <summary>Each strategy's name as a run spec or the command line writes it.</summary>
    public static IReadOnlyDictionary<string, PipelineStrategy> Strategies { get; } =
        new Dictionary<string, PipelineStrategy>
        {
            ["distillation"] = PipelineStrategy.Distillation,
            ["diversity-aware"] = PipelineStrategy.DiversityAware,
            ["diversity-aware+distillation"] = PipelineStrategy.DiversityAwareDistillation,
        };

    /// <summary>The strategy named as in a run spec or on the command line, or null.</summary>
    public static PipelineStrategy? ParseStrategy(string name) =>
        Strategies.TryGetValue(name, out var strategy) ? strategy : null;

    /// <summary>A strategy's name as a run spec or the command line writes it.</summary>
    public static string StrategyName(PipelineStrategy strategy) => Strategies.Single(s => s.Value == strategy).Key;

    /// <summary>The sampler named as in a run spec, or null.</summary>
    public static DiffusionSamplerKind? ParseSampler(string name) =>
        name switch
        {
            "ddim" => DiffusionSamplerKind.Ddim,
            "dpm-solver++" => DiffusionSamplerKind.DpmSolverPlusPlus,
            _ => null,
        };

    // Every value in the sections below is nullable: null is "left out", which takes the preset's value.
    private sealed class Document
    {
        public string Dataset { get; set; } = "";
        public string Preset { get; set; } = "default";
        public string Strategy { get; set; } = StrategyName(DemoPresets.DefaultStrategy);
        public string? Output { get; set; }
        public Diffusion Teacher { get; set; } = new();
        public Diffusion Student { get; set; } = new();
        public SamplingSection Sampling { get; set; } = new();
        public AuditSection Audit { get; set; } = new();
        public GateSection Gate { get; set; } = new();
        public UtilitySection Utility { get; set; } = new();
        public DiversitySection Diversity { get; set; } = new();
        public ReleaseSection Release { get; set; } = new();
    }

    /// <summary>What the release's model and dataset cards say, in the data holder's words.</summary>
    private sealed class ReleaseSection
    {
        public string? DataSource { get; set; }
        public string? IntendedUse { get; set; }
        public string? OutOfScopeUse { get; set; }
        public string? Licence { get; set; }
        public string? Contact { get; set; }
        public List<string>? ClassNames { get; set; }

        public ReleaseDescription? ToDescription() =>
            (DataSource, IntendedUse, OutOfScopeUse, Licence, Contact, ClassNames)
                is (null, null, null, null, null, null)
                ? null
                : new ReleaseDescription(DataSource, IntendedUse, OutOfScopeUse, Licence, Contact, ClassNames);
    }

    private sealed class DiversitySection
    {
        public int? Candidates { get; set; }
        public double? Guidance { get; set; }
        public double? GuidanceStep { get; set; }
        public double? GuidanceFloor { get; set; }
        public double? LinkPenalty { get; set; }
        public int? TwinsPerRecord { get; set; }

        public DiversityOptions ToOptions(DiversityOptions preset, string path)
        {
            var options = new DiversityOptions(
                Candidates ?? preset.Candidates,
                Guidance ?? preset.Guidance,
                GuidanceStep ?? preset.GuidanceStep,
                GuidanceFloor ?? preset.GuidanceFloor,
                LinkPenalty ?? preset.LinkPenalty,
                TwinsPerRecord ?? preset.TwinsPerRecord
            );
            if (options.Candidates < 1)
                throw new InvalidDataException(
                    $"{path}: diversity.candidates must be positive, was {options.Candidates}."
                );
            if (options.TwinsPerRecord < 1 || options.TwinsPerRecord > options.Candidates)
                throw new InvalidDataException(
                    $"{path}: diversity.twinsPerRecord must be between 1 and diversity.candidates "
                        + $"({options.Candidates}), was {options.TwinsPerRecord}."
                );
            if (options.GuidanceFloor < 0 || options.GuidanceFloor > options.Guidance)
                throw new InvalidDataException(
                    $"{path}: diversity.guidanceFloor must be between 0 and diversity.guidance "
                        + $"({options.Guidance}), was {options.GuidanceFloor}."
                );
            return options;
        }
    }

    /// <summary>A teacher or student section; a key left out takes the preset's value for that role.</summary>
    private sealed class Diffusion
    {
        public int? Steps { get; set; }
        public int? BatchSize { get; set; }
        public int? BaseChannels { get; set; }
        public int? Timesteps { get; set; }
        public double? LearningRate { get; set; }
        public long? Seed { get; set; }

        public TrainingRunSpec ToSpec(TrainingRunSpec preset) =>
            preset with
            {
                Steps = Steps ?? preset.Steps,
                BatchSize = BatchSize ?? preset.BatchSize,
                BaseChannels = BaseChannels ?? preset.BaseChannels,
                Timesteps = Timesteps ?? preset.Timesteps,
                LearningRate = LearningRate ?? preset.LearningRate,
                Seed = Seed ?? preset.Seed,
            };
    }

    private sealed class SamplingSection
    {
        public int? Count { get; set; }
        public int? ShardSize { get; set; }
        public double? Guidance { get; set; }

        /// <summary>"ddim" or "dpm-solver++".</summary>
        public string? Sampler { get; set; }

        /// <summary>The sampler's denoising steps.</summary>
        public int? Steps { get; set; }

        /// <summary>"balanced" (every class equally) or "real" (the real training set's label proportions).</summary>
        public string? Labels { get; set; }
    }

    private sealed class AuditSection
    {
        public double? Alpha { get; set; }
        public int? EncoderSteps { get; set; }
        public int? Canaries { get; set; }

        /// <summary>Pair-verifier training steps; 0: the encoder's link rule makes the verdicts.</summary>
        public int? VerifierSteps { get; set; }

        /// <summary>Pairs per pair-verifier training step.</summary>
        public int? VerifierBatch { get; set; }

        /// <summary>How many of each record's nearest others the verifier's negatives are drawn among.</summary>
        public int? VerifierLookAlikes { get; set; }
    }

    private sealed class GateSection
    {
        public int? MinimumSamples { get; set; }
        public bool? RequireApproval { get; set; }
        public double? MinimumCanaryRecall { get; set; }
        public double? StudentFlaggedRateCeiling { get; set; }
    }

    private sealed class UtilitySection
    {
        public int? ClassifierSteps { get; set; }
    }
}

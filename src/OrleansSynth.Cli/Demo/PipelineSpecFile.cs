using OrleansSynth.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace OrleansSynth.Cli.Demo;

/// <summary>
/// A pipeline run spec in YAML (camelCase keys). Unknown keys are errors, so a typo never silently falls back to
/// a default; a key left out takes the value of <c>synth demo</c>'s default preset (<see cref="DemoPresets"/>). Example:
/// <code>
/// dataset: fashion-mnist
/// strategy: distillation        # or diversity-aware, or diversity-aware+distillation
/// output: out/my-run
/// teacher: { steps: 2400 }
/// student: { steps: 1200 }
/// sampling: { count: 1500, shardSize: 250, guidance: 2.0, sampler: dpm-solver++, steps: 15, labels: balanced }   # or sampler: ddim
/// audit: { alpha: 0.02, encoderSteps: 3000, canaries: 200, verifierSteps: 24000 }
/// gate: { minimumSamples: 1000, requireApproval: false, minimumCanaryRecall: 0.95, studentFlaggedRateCeiling: 0.05 }
/// utility: { classifierSteps: 800 }
/// diversity: { candidates: 3, guidance: 1.4, guidanceStep: 0.1, guidanceFloor: 0.5, linkPenalty: 1.0, twinsPerRecord: 3 }
/// </code>
/// </summary>
internal static class PipelineSpecFile
{
    /// <summary>Where run outputs may go unless told otherwise: below the current directory.</summary>
    public const string OutputRootVariable = "ORLEANSSYNTH_OUTPUT_ROOT";

    // Where a spec is silent it runs as `synth demo` does: one set of measured defaults (README, "Results").
    private static readonly PipelineSpec Preset = DemoPresets.For("default", "", "");

    /// <param name="outputRoot">The folder every output must stay inside (default: <see cref="OutputRootVariable"/>, else the current directory).</param>
    public static PipelineSpec Load(string path, string? outputRoot = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: run spec not found.", path);
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        Document document;
        try
        {
            document = deserializer.Deserialize<Document>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: the run spec is empty.");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}: line {e.Start.Line}: {(e.InnerException ?? e).Message}", e);
        }
        if (string.IsNullOrWhiteSpace(document.Dataset)) throw new InvalidDataException($"{path}: 'dataset' is required.");
        var strategy = ParseStrategy(document.Strategy) ?? throw new InvalidDataException(
            $"{path}: strategy '{document.Strategy}' is unknown; use distillation, diversity-aware or diversity-aware+distillation.");
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputRoot ?? (Environment.GetEnvironmentVariable(OutputRootVariable) is { Length: > 0 } r ? r : Directory.GetCurrentDirectory())));
        // Relative outputs are relative to the root, which is the current directory unless set.
        var output = Path.GetFullPath(document.Output ?? Path.Combine("out", Path.GetFileNameWithoutExtension(path)), root);
        if (output != root && !output.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: 'output' {output} is outside the allowed output root {root}; choose a folder inside it (or set {OutputRootVariable}).");
        return new PipelineSpec(document.Dataset, document.Teacher.ToSpec(Preset.Teacher), document.Student.ToSpec(Preset.Student),
            document.Sampling.Count, document.Sampling.ShardSize,
            new PipelinePolicy(document.Gate.MinimumSamples, document.Gate.RequireApproval, document.Gate.MinimumCanaryRecall, document.Gate.StudentFlaggedRateCeiling), output,
            document.Sampling.Guidance, document.Sampling.Steps, document.Audit.Alpha, document.Audit.EncoderSteps,
            document.Utility.ClassifierSteps, MatchRealLabels: document.Sampling.Labels switch
            {
                "balanced" => false,
                "real" => true,
                var other => throw new InvalidDataException($"{path}: sampling.labels must be 'balanced' or 'real', not '{other}'."),
            }, Strategy: strategy, Diversity: document.Diversity.ToOptions(path), Canaries: document.Audit.Canaries,
            VerifierSteps: document.Audit.VerifierSteps >= 0 ? document.Audit.VerifierSteps
                : throw new InvalidDataException($"{path}: audit.verifierSteps must not be negative, was {document.Audit.VerifierSteps}."),
            Sampler: ParseSampler(document.Sampling.Sampler) ?? throw new InvalidDataException(
                $"{path}: sampling.sampler '{document.Sampling.Sampler}' is unknown; use ddim or dpm-solver++."));
    }

    /// <summary>The strategy named as in a run spec or on the command line, or null.</summary>
    public static PipelineStrategy? ParseStrategy(string name) => name switch
    {
        "distillation" => PipelineStrategy.Distillation,
        "diversity-aware" => PipelineStrategy.DiversityAware,
        "diversity-aware+distillation" => PipelineStrategy.DiversityAwareDistillation,
        _ => null,
    };

    // One table both ways, so a name written into a spec always parses back.
    private static readonly (DiffusionSamplerKind Kind, string Name)[] SamplerNames =
        [(DiffusionSamplerKind.Ddim, "ddim"), (DiffusionSamplerKind.DpmSolverPlusPlus, "dpm-solver++")];

    /// <summary>A sampler's name in a run spec.</summary>
    public static string SamplerName(DiffusionSamplerKind sampler) =>
        SamplerNames.FirstOrDefault(n => n.Kind == sampler).Name ?? throw new ArgumentOutOfRangeException(nameof(sampler), sampler, null);

    /// <summary>The sampler named as in a run spec, or null.</summary>
    public static DiffusionSamplerKind? ParseSampler(string name) =>
        SamplerNames.Where(n => n.Name == name).Select(n => (DiffusionSamplerKind?)n.Kind).FirstOrDefault();

    private sealed class Document
    {
        public string Dataset { get; set; } = "";
        public string Strategy { get; set; } = "distillation";
        public string? Output { get; set; }
        public Diffusion Teacher { get; set; } = new();
        public Diffusion Student { get; set; } = new();
        public SamplingSection Sampling { get; set; } = new();
        public AuditSection Audit { get; set; } = new();
        public GateSection Gate { get; set; } = new();
        public UtilitySection Utility { get; set; } = new();
        public DiversitySection Diversity { get; set; } = new();
    }

    private sealed class DiversitySection
    {
        public int Candidates { get; set; } = Preset.Diversity!.Candidates;
        public double Guidance { get; set; } = Preset.Diversity!.Guidance;
        public double GuidanceStep { get; set; } = Preset.Diversity!.GuidanceStep;
        public double GuidanceFloor { get; set; } = Preset.Diversity!.GuidanceFloor;
        public double LinkPenalty { get; set; } = Preset.Diversity!.LinkPenalty;
        public int TwinsPerRecord { get; set; } = Preset.Diversity!.TwinsPerRecord;

        public DiversityOptions ToOptions(string path)
        {
            if (Candidates < 1) throw new InvalidDataException($"{path}: diversity.candidates must be positive, was {Candidates}.");
            if (TwinsPerRecord < 1 || TwinsPerRecord > Candidates)
                throw new InvalidDataException($"{path}: diversity.twinsPerRecord must be between 1 and diversity.candidates ({Candidates}), was {TwinsPerRecord}.");
            return new(Candidates, Guidance, GuidanceStep, GuidanceFloor, LinkPenalty, TwinsPerRecord);
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

        public TrainingRunSpec ToSpec(TrainingRunSpec preset) => preset with
        {
            Steps = Steps ?? preset.Steps, BatchSize = BatchSize ?? preset.BatchSize, BaseChannels = BaseChannels ?? preset.BaseChannels,
            Timesteps = Timesteps ?? preset.Timesteps, LearningRate = LearningRate ?? preset.LearningRate, Seed = Seed ?? preset.Seed,
        };
    }

    private sealed class SamplingSection
    {
        public int Count { get; set; } = Preset.SampleCount;
        public int ShardSize { get; set; } = Preset.ShardSize;
        public double Guidance { get; set; } = Preset.Guidance;
        /// <summary>"ddim" or "dpm-solver++".</summary>
        public string Sampler { get; set; } = SamplerName(Preset.Sampler);
        /// <summary>The sampler's denoising steps.</summary>
        public int Steps { get; set; } = Preset.SamplerSteps;
        /// <summary>"balanced" (every class equally) or "real" (the real training set's label proportions).</summary>
        public string Labels { get; set; } = "balanced";
    }

    private sealed class AuditSection
    {
        public double Alpha { get; set; } = AuditDefaults.Alpha;
        public int EncoderSteps { get; set; } = AuditDefaults.EncoderSteps;
        public int Canaries { get; set; } = AuditDefaults.Canaries;
        /// <summary>Pair-verifier training steps; 0: the encoder's link rule makes the verdicts.</summary>
        public int VerifierSteps { get; set; } = AuditDefaults.VerifierSteps;
    }

    private sealed class GateSection
    {
        public int MinimumSamples { get; set; } = Preset.Gate.MinimumSamples;
        public bool RequireApproval { get; set; }
        public double MinimumCanaryRecall { get; set; } = Preset.Gate.MinimumCanaryRecall;
        public double StudentFlaggedRateCeiling { get; set; } = Preset.Gate.StudentFlaggedRateCeiling;
    }

    private sealed class UtilitySection
    {
        public int ClassifierSteps { get; set; } = Preset.ClassifierSteps;
    }
}

using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Specs;

namespace OrleansSynth.Cli.Tests;

public sealed class PipelineSpecFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-spec-tests",
        Guid.NewGuid().ToString("N")
    );

    public PipelineSpecFileTests() => Directory.CreateDirectory(_folder);

    private string Write(string yaml)
    {
        var path = Path.Combine(_folder, "run.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void TheKubernetesJobsSpecIsAValidRunSpec()
    {
        // The spec the submit-run Job (and the Helm chart's job) ships must be one the client accepts.
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repository.FullName, "OrleansSynth.sln")))
            repository = repository.Parent!;
        var spec = PipelineSpecFile.Load(
            Path.Combine(repository.FullName, "k8s", "jobs", "submit-run", "spec.yaml"),
            outputRoot: _folder
        );
        Assert.Equal("/data/datasets/fashion-mnist", spec.Dataset);
        Assert.Equal(PipelineStrategy.Distillation, spec.Strategy);
        Assert.Equal((1500, 250), (spec.SampleCount, spec.ShardSize));
        Assert.True(spec.Gate.RequireApproval);
    }

    [Fact]
    public void ReadsEverySectionAndKeepsDefaultsForTheRest()
    {
        var spec = PipelineSpecFile.Load(
            Write(
                """
                dataset: fashion-mnist
                output: /tmp/x
                gate: { minimumSamples: 800, requireApproval: true, minimumCanaryRecall: 0.9 }
                teacher: { steps: 900, baseChannels: 48 }
                sampling: { count: 1200, shardSize: 300, guidance: 1.5 }
                audit: { alpha: 0.02, canaries: 50 }
                """
            ),
            outputRoot: "/tmp"
        );
        Assert.Equal("fashion-mnist", spec.Dataset);
        Assert.Equal((900, 48), (spec.Teacher.Steps, spec.Teacher.BaseChannels));
        // The teacher's other keys, and the whole student, are the default preset's.
        var preset = DemoPresets.For("default", "fashion-mnist", "/tmp/x");
        Assert.Equal(preset.Teacher with { Steps = 900, BaseChannels = 48 }, spec.Teacher);
        Assert.Equal(preset.Student, spec.Student);
        Assert.Equal((1200, 300, 1.5), (spec.SampleCount, spec.ShardSize, spec.Guidance));
        Assert.Equal(0.02, spec.Alpha);
        Assert.Equal((800, true), (spec.Gate.MinimumSamples, spec.Gate.RequireApproval));
        Assert.Equal(
            (0.9, 0.05, 50),
            (spec.Gate.MinimumCanaryRecall, spec.Gate.StudentFlaggedRateCeiling, spec.Canaries)
        );
        Assert.Equal("/tmp/x", spec.Output);
        Assert.Equal(PipelineStrategy.DiversityAware, spec.Strategy);
        Assert.Equal((DiffusionSamplerKind.DpmSolverPlusPlus, 15), (spec.Sampler, spec.SamplerSteps));
    }

    [Fact]
    public void ASpecThatNamesOnlyTheDatasetRunsAsTheDefaultPreset()
    {
        var spec = PipelineSpecFile.Load(Write("dataset: fashion-mnist\noutput: run\n"), outputRoot: _folder);
        Assert.Equal(DemoPresets.For("default", "fashion-mnist", Path.Combine(_folder, "run")), spec);
        Assert.Equal(PipelineStrategy.DiversityAware, spec.Strategy);
        var distillation = PipelineSpecFile.Load(
            Write("dataset: fashion-mnist\noutput: run\nstrategy: distillation\n"),
            outputRoot: _folder
        );
        Assert.Equal(
            DemoPresets.For("default", "fashion-mnist", Path.Combine(_folder, "run"), PipelineStrategy.Distillation),
            distillation
        );
    }

    [Fact]
    public void APresetGivesTheValuesOfEveryKeyLeftOut()
    {
        var spec = PipelineSpecFile.Load(
            Write(
                """
                dataset: fashion-mnist
                preset: long
                strategy: diversity-aware
                output: run
                teacher: { steps: 100 }
                audit: { canaries: 20 }
                """
            ),
            outputRoot: _folder
        );
        var preset = DemoPresets.For(
            "long",
            "fashion-mnist",
            Path.Combine(_folder, "run"),
            PipelineStrategy.DiversityAware
        );
        Assert.Equal(preset with { Teacher = preset.Teacher with { Steps = 100 }, Canaries = 20 }, spec);
        // Not the default preset's values: the long one's wider teacher.
        Assert.NotEqual(
            DemoPresets.For("default", "fashion-mnist", "").Teacher.BaseChannels,
            spec.Teacher.BaseChannels
        );
        Assert.Contains(
            "preset 'huge' is unknown; use quick, default, long",
            Assert
                .Throws<InvalidDataException>(() =>
                    PipelineSpecFile.Load(Write("dataset: x\npreset: huge\n"), outputRoot: _folder)
                )
                .Message
        );
    }

    [Fact]
    public void ReadsTheSamplerAndItsSteps()
    {
        var spec = PipelineSpecFile.Load(
            Write("dataset: fashion-mnist\nsampling: { sampler: dpm-solver++, steps: 10 }\n"),
            outputRoot: _folder
        );
        Assert.Equal((DiffusionSamplerKind.DpmSolverPlusPlus, 10), (spec.Sampler, spec.SamplerSteps));
        Assert.Contains(
            "sampling.sampler 'euler' is unknown",
            Assert
                .Throws<InvalidDataException>(() =>
                    PipelineSpecFile.Load(Write("dataset: x\nsampling: { sampler: euler }\n"), outputRoot: _folder)
                )
                .Message
        );
    }

    [Fact]
    public void TheVerifierIsOnByDefaultCanBeTurnedOffAndRefusesNegativeSteps()
    {
        // The measured default: the verifier decides, at alpha 2%.
        var defaults = PipelineSpecFile.Load(Write("dataset: fashion-mnist\n"), outputRoot: _folder);
        Assert.Equal((14_000, 0.02), (defaults.VerifierSteps, defaults.Alpha));
        Assert.Equal(
            0,
            PipelineSpecFile
                .Load(Write("dataset: fashion-mnist\naudit: { verifierSteps: 0 }\n"), outputRoot: _folder)
                .VerifierSteps
        );
        Assert.Equal(
            6000,
            PipelineSpecFile
                .Load(Write("dataset: fashion-mnist\naudit: { verifierSteps: 6000 }\n"), outputRoot: _folder)
                .VerifierSteps
        );
        Assert.Contains(
            "audit.verifierSteps must not be negative",
            Assert
                .Throws<InvalidDataException>(() =>
                    PipelineSpecFile.Load(Write("dataset: x\naudit: { verifierSteps: -1 }\n"), outputRoot: _folder)
                )
                .Message
        );
    }

    [Fact]
    public void ReadsTheVerifiersBatchAndLookAlikes()
    {
        var defaults = PipelineSpecFile.Load(Write("dataset: fashion-mnist\n"), outputRoot: _folder);
        var set = PipelineSpecFile.Load(
            Write("dataset: fashion-mnist\naudit: { verifierBatch: 64, verifierLookAlikes: 3 }\n"),
            outputRoot: _folder
        );
        Assert.Equal(
            (PipelineSpec.DefaultVerifierBatch, PipelineSpec.DefaultVerifierLookAlikes),
            (defaults.VerifierBatch, defaults.VerifierLookAlikes)
        );
        Assert.Equal((64, 3), (set.VerifierBatch, set.VerifierLookAlikes));
    }

    [Fact]
    public void TheQuickPresetRunsTheUsersKindOfAuditUnderTheDefaultGateOnASlice()
    {
        var quick = DemoPresets.For("quick", DemoPresets.DatasetFor("quick"), _folder);
        Assert.Equal("fashion-mnist-6k", quick.Dataset);
        Assert.Equal(
            (0.02, 4000, 64, 2),
            (quick.Alpha, quick.VerifierSteps, quick.VerifierBatch, quick.VerifierLookAlikes)
        );
        Assert.Equal(new PipelinePolicy(150, RequireApproval: false), quick.Gate);
        Assert.Equal("fashion-mnist", DemoPresets.DatasetFor("default"));
    }

    [Fact]
    public void ReadsTheStrategyAndTheDiversityOptions()
    {
        var spec = PipelineSpecFile.Load(
            Write(
                """
                dataset: fashion-mnist
                strategy: diversity-aware+distillation
                diversity: { candidates: 6, guidanceFloor: 0.8, twinsPerRecord: 3 }
                """
            ),
            outputRoot: _folder
        );
        Assert.Equal(PipelineStrategy.DiversityAwareDistillation, spec.Strategy);
        // Guidance is left out: the default preset's w = 1.
        Assert.Equal(
            new DiversityOptions(Candidates: 6, Guidance: 1.0, GuidanceFloor: 0.8, TwinsPerRecord: 3),
            spec.Diversity
        );
        Assert.Equal(4500, spec.SampleCount);
        Assert.True(spec.UsesTwins && spec.TrainsStudent);
        Assert.Contains(
            "diversity.twinsPerRecord must be between 1 and diversity.candidates (2), was 3",
            Assert
                .Throws<InvalidDataException>(() =>
                    PipelineSpecFile.Load(
                        Write("dataset: x\ndiversity: { candidates: 2, twinsPerRecord: 3 }\n"),
                        outputRoot: _folder
                    )
                )
                .Message
        );
        Assert.Contains(
            "diversity.guidanceFloor must be between 0 and diversity.guidance (0.4), was 0.5",
            Assert
                .Throws<InvalidDataException>(() =>
                    PipelineSpecFile.Load(Write("dataset: x\ndiversity: { guidance: 0.4 }\n"), outputRoot: _folder)
                )
                .Message
        );
    }

    [Fact]
    public void UnknownKeysMissingDatasetAndUnsupportedStrategiesAreErrorsNamingTheFile()
    {
        var typo = Write("dataset: fashion-mnist\nsampling: { cuont: 10 }\n");
        var error = Assert.Throws<InvalidDataException>(() => PipelineSpecFile.Load(typo));
        Assert.Contains(typo, error.Message);
        Assert.Contains("line 2", error.Message);

        Assert.Contains(
            "'dataset' is required",
            Assert.Throws<InvalidDataException>(() => PipelineSpecFile.Load(Write("teacher: { steps: 5 }\n"))).Message
        );
        Assert.Contains(
            "strategy 'twins' is unknown",
            Assert
                .Throws<InvalidDataException>(() => PipelineSpecFile.Load(Write("dataset: x\nstrategy: twins\n")))
                .Message
        );
        Assert.Throws<FileNotFoundException>(() => PipelineSpecFile.Load(Path.Combine(_folder, "missing.yaml")));
    }

    [Theory]
    [InlineData("../escaped")]
    [InlineData("/etc/orleanssynth")]
    public void AnOutputOutsideTheAllowedRootIsRefused(string output)
    {
        var spec = Write($"dataset: fashion-mnist\noutput: {output}\n");
        var error = Assert.Throws<InvalidDataException>(() =>
            PipelineSpecFile.Load(spec, outputRoot: Path.Combine(_folder, "runs"))
        );
        Assert.Contains("outside the allowed output root", error.Message);
        Assert.Contains(spec, error.Message);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

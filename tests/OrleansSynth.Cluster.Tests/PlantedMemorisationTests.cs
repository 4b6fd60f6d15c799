using OrleansSynth.Abstractions;
using Xunit.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A teacher trained on a few images repeated many times memorises them: its samples must be flagged, the filter
/// must remove them, and the student, which only saw what was left, must be flagged less often.
/// </summary>
public sealed class PlantedMemorisationTests(TwoSiloCluster cluster, ITestOutputHelper output)
    : IClassFixture<TwoSiloCluster>
{
    [Fact]
    public async Task TheGateFiltersMemorisedSamplesAndTheStudentIsFlaggedLessThanTheTeacher()
    {
        var dataset = SmallFashionMnist.WriteRepeated(
            Path.Combine(cluster.Root, "memorise"),
            distinct: 20,
            repeats: 25,
            test: 400
        );
        var teacher = new TrainingRunSpec(
            "",
            Steps: 400,
            BatchSize: 32,
            BaseChannels: 16,
            Timesteps: 100,
            LearningRate: 2e-3,
            CheckpointEvery: 100
        );
        var student = teacher with { Steps = 200 };
        var spec = new PipelineSpec(
            dataset,
            teacher,
            student,
            SampleCount: 80,
            ShardSize: 20,
            // A 150-step encoder is too small to prove its recall on canaries, and the student of 20 memorised images
            // may still be flagged: this test is about the filter, so those two conditions are off and a release is
            // always written, for the check below.
            Gate: new PipelinePolicy(
                MinimumSamples: 1,
                RequireApproval: false,
                MinimumCanaryRecall: 0,
                StudentFlaggedRateCeiling: 1
            ),
            Output: Path.Combine(cluster.Root, "memorise-out"),
            SamplerSteps: 10,
            EncoderSteps: 150,
            ClassifierSteps: 20,
            SyntheticTile: 64,
            RealTile: 256
        );
        var coordinator = cluster.Client.GetGrain<IPipelineCoordinatorGrain>("memorise");
        var status = await cluster.RunToEnd(coordinator, spec);
        Assert.True(status.State == WorkState.Completed, $"{status.State}: {status.Error}");
        // Where the test's minutes go, for whoever next shortens the suite.
        foreach (var stage in status.Stages.Where(s => s.StartedAt is not null && s.FinishedAt is not null))
            output.WriteLine($"{stage.Name}: {(stage.FinishedAt!.Value - stage.StartedAt!.Value).TotalSeconds:F1} s");
        await TwoSiloCluster.ExportRelease(coordinator, Path.Combine(cluster.Root, "memorise-out"));

        var teacherAudit = await cluster.Grains.GetGrain<IPrivacyAuditGrain>("memorise/teacher-audit").GetStatus();
        var studentAudit = await cluster.Grains.GetGrain<IPrivacyAuditGrain>("memorise/student-audit").GetStatus();
        output.WriteLine(
            $"teacher flagged {teacherAudit.Summary!.Flagged}/{teacherAudit.Summary.Total} "
                + $"({teacherAudit.Summary.Rate:P1}); "
                + $"student flagged {studentAudit.Summary!.Flagged}/{studentAudit.Summary.Total} "
                + $"({studentAudit.Summary.Rate:P1})"
        );
        Assert.True(teacherAudit.Summary.Flagged > 0, "the memorising teacher produced no flagged sample");
        var decisions = await coordinator.GetDecisions();
        Assert.Equal(teacherAudit.Summary.Flagged, decisions[^1].Evidence.FlaggedSamples);
        Assert.Equal(0, decisions[^1].Evidence.FlaggedRemaining);
        // Every released image passed both audits: no flagged teacher or student sample is among the released pixels.
        var release = Path.Combine(cluster.Root, "memorise-out", "release", "synthetic");
        Assert.True(Directory.Exists(release), $"no release at {release}");
        var released = Directory
            .GetFiles(release, "*.png")
            .Select(f => Convert.ToHexString(ML.Imaging.PngImage.Read(f).Pixels))
            .ToHashSet();
        foreach (
            var (job, audit) in new[]
            {
                ("memorise/teacher-samples", teacherAudit),
                ("memorise/student-samples", studentAudit),
            }
        )
        {
            var flagged = audit.FlaggedSampleIds.ToHashSet();
            var samples = await cluster.Grains.GetGrain<ISamplingJobGrain>(job).GetStatus();
            foreach (var shard in samples.Shards)
            {
                var bundle = ML.Data.SampleBundle.Read(await cluster.ArtifactPath(shard.Samples));
                for (var i = 0; i < bundle.Count; i++)
                    if (flagged.Contains(bundle.RecordIds[i]))
                        Assert.DoesNotContain(Convert.ToHexString(bundle.ImageAt(i).ToArray()), released);
            }
        }
        Assert.True(
            studentAudit.Summary.Rate < teacherAudit.Summary.Rate,
            $"student rate {studentAudit.Summary.Rate:P1} is not below the teacher's {teacherAudit.Summary.Rate:P1}"
        );
    }
}

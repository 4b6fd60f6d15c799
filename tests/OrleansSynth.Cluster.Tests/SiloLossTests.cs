using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A silo process killed with SIGKILL in the middle of a pipeline's training or sampling: the run moves on by itself
/// on the survivor and completes with exactly the requested samples and an audit of exactly those (a kill mid-audit is
/// the chaos run's: one of its kills always hits the audit's silo while it works). From the
/// submission to the run's end the test makes no call to the run's grains (it reads the silos' logs and /metrics),
/// so nothing but the cluster's own reminders and calls can have resumed it. Run over Azure Storage; over Redis the
/// same losses are covered by the chaos run, whose kills always include the coordinator's and the audit's silos (both
/// backends have one), and a stopped training silo by <see cref="RedisClusterTests"/>.
/// </summary>
public abstract class SiloLossTests<TCluster>(TCluster cluster)
    where TCluster : SiloProcesses
{
    private const int Samples = 60;

    [Fact]
    public async Task ARunWhoseSiloIsKilledMidSamplingCompletesWithExactlyItsSamples()
    {
        const string run = "killed-mid-sampling";
        await cluster.RestoreSilosAsync();
        await SubmitAsync(run, teacherSteps: 20);
        var shardsDone = $@"Part {RunGrainIds.TeacherSamples(run)}/\d+ completed";
        var sampled = $"Sampling job {RunGrainIds.TeacherSamples(run)} completed";
        await Until(
            () => cluster.LogLines(shardsDone) >= 2 || cluster.LogLines(sampled) > 0,
            TimeSpan.FromMinutes(5),
            "two shards done"
        );
        Assert.True(
            cluster.LogLines(sampled) == 0,
            $"not mid-sampling: sampling finished before the kill\n{cluster.SiloOutput}"
        );
        cluster.KillSilo(0);
        await CompletesByItselfAsync(run);
    }

    [Fact]
    public async Task ARunWhoseTrainingSiloIsKilledResumesTrainingOnTheSurvivor()
    {
        const string run = "killed-mid-training";
        await cluster.RestoreSilosAsync();
        await SubmitAsync(run, teacherSteps: 300);
        // Past step 30 its checkpoint of step 20 exists (checkpoints every 10 steps); the silo reporting the step runs
        // it.
        (int Silo, double Value)? training = null;
        await Until(
            async () =>
                (training = await cluster.SiloReportingAsync("orleanssynth_training_step", RunGrainIds.Teacher(run)))
                    is { Value: >= 30 },
            TimeSpan.FromMinutes(5),
            "the teacher past step 30"
        );
        Assert.True(training!.Value.Value < 300, $"not mid-training: step {training.Value.Value}");
        cluster.KillSilo(training.Value.Silo);
        await CompletesByItselfAsync(run);
        Assert.True(
            cluster.LogLines($"Training run {RunGrainIds.Teacher(run)} resumes from its checkpoint") >= 1,
            "the training did not resume"
        );
        var trained = (await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run).GetPipelineStatus()).Stages.Single(
            s => s.Name == "train teacher"
        );
        Assert.StartsWith("300 steps, resumed", trained.Detail);
    }

    private async Task SubmitAsync(string run, int teacherSteps)
    {
        var diffusion = new TrainingRunSpec(
            "",
            Steps: teacherSteps,
            BatchSize: 16,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 10
        );
        await cluster.Submit(
            cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run),
            new PipelineSpec(
                cluster.Dataset,
                diffusion,
                diffusion with
                {
                    Steps = 10,
                },
                SampleCount: Samples,
                ShardSize: 5,
                // 0 and false on purpose: fields equal to their type's default must survive grain storage when the
                // coordinator moves silos (Redis's JSON once dropped them and they came back as the record's defaults).
                Gate: new PipelinePolicy(
                    MinimumSamples: 1,
                    RequireApproval: false,
                    MinimumCanaryRecall: 0,
                    StudentFlaggedRateCeiling: 1
                ),
                Output: $"out/{run}",
                SamplerSteps: 25,
                EncoderSteps: 20,
                ClassifierSteps: 10,
                SyntheticTile: 16,
                RealTile: 256,
                Canaries: 20
            )
        );
    }

    /// <summary>
    /// Waits, calling nothing, for the run's last stage in the silos' logs; then checks it completed with exactly its
    /// samples, each audited once.
    /// </summary>
    private async Task CompletesByItselfAsync(string run)
    {
        var ended = $"Pipeline {run}: stage 'report and release' done|Pipeline {run} (refused|failed)";
        await Until(() => cluster.LogLines(ended) > 0, TimeSpan.FromMinutes(10), $"run {run} to end");

        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        var done = await TwoSiloCluster.WaitFor(
            () => cluster.Retrying(coordinator.GetPipelineStatus),
            s => s.State != WorkState.Running,
            TimeSpan.FromSeconds(30)
        );
        Assert.True(done.State == WorkState.Completed, $"{done.State}: {done.Error}\n{cluster.SiloOutput}");
        // The gate's evidence, as the operator reads it: every sample audited once, none lost or doubled, every tile
        // scanned.
        var evidence = (await cluster.Retrying(coordinator.GetDecisions)).Last(d => d.Open).Evidence;
        Assert.Equal(Samples, evidence.SamplesRemaining + evidence.FlaggedSamples);
        Assert.Equal(evidence.TilesTotal, evidence.TilesDone);
        Assert.Contains($" of {Samples} flagged", done.Stages.Single(s => s.Name == "audit teacher samples").Detail);
        Assert.Equal(
            new WorkProgress(RunGrainIds.TeacherSamples(run), WorkState.Completed, Samples / 5, Samples / 5, "shards"),
            await cluster.Retrying(() => cluster.Progress(run, RunGrainIds.TeacherSamples(run)))
        );
    }

    private Task Until(Func<bool> condition, TimeSpan timeout, string what) =>
        Until(() => Task.FromResult(condition()), timeout, what);

    private async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"waited {timeout} for {what}\n{cluster.SiloOutput}");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}

public sealed class SiloLossOverAzureTests(AzureSiloProcesses cluster)
    : SiloLossTests<AzureSiloProcesses>(cluster),
        IClassFixture<AzureSiloProcesses>;

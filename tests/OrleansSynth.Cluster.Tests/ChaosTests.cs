using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using OrleansSynth.Abstractions;
using Xunit.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A small whole pipeline on three silo processes while a loop kills a random silo with SIGKILL every 20-30 s and
/// starts it again (one kill aimed at the coordinator's silo, one at the audit's as soon as it shows), and restarts
/// the storage server once. Until the run ends the test calls none of its grains: it follows the run in the silos'
/// logs and /metrics.
/// Then the run must have completed with exactly its samples, each audited once; the export must match the release's
/// hashes; no stored artifact may be corrupt; and every stage that ran again must have ended with the same result.
/// </summary>
public abstract class ChaosTests<TCluster>(TCluster cluster, ITestOutputHelper output)
    where TCluster : SiloProcesses
{
    private const string Run = "chaos";
    private const int Samples = 40;

    /// <summary>Six kills over Azure Storage, the deployment the design names; four over Redis, with a shorter run, to
    /// keep the suite's time (the Redis cluster tests restart and stop its silos too).</summary>
    private int Kills => OverRedis ? 4 : 6;

    /// <summary>The teacher's steps: long enough for the kills to fit in the run even where it is fast.</summary>
    private int TeacherSteps => OverRedis ? 200 : 300;

    private bool OverRedis => cluster.Secure.Backend == StorageBackend.Redis;
    private const int MaxKills = 12;

    [Fact]
    public async Task ARunCompletesExactlyWhileSilosAreKilledAtRandomAndTheStorageRestarts()
    {
        var clock = Stopwatch.StartNew();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        Say($"chaos over {typeof(TCluster).Name}, seed {seed}");
        await SubmitAsync();
        var ended = $"Pipeline {Run}: stage 'report and release' done|Pipeline {Run} (refused|failed)";
        var kills = new List<string>();
        var (coordinatorHit, auditHit, storageRestarted) = (false, false, false);

        // Kills until there were enough, one of them the coordinator's silo and one during the audit (twelve at
        // most; past the random ones, only those two); then the run is left to end by itself.
        var lastKill = TimeSpan.Zero;
        while (
            cluster.LogLines(ended) == 0
            && (kills.Count < Kills || !coordinatorHit || !auditHit)
            && kills.Count < MaxKills
        )
        {
            // 20-30 s of quiet, watching for the end: six kills fit in the run even where it is fast (with 20-40 s a
            // run of 183 s once ended after five). An audit lasts only tens of seconds, so until one was hit, the
            // quiet ends as soon as an audit's silo shows (at least 10 s after the last kill, so the silo killed then
            // is back).
            var quietUntil = DateTime.UtcNow + TimeSpan.FromSeconds(20 + random.Next(11));
            (string Stage, int? CoordinatorSilo, int? AuditSilo) look = ("?", null, null);
            while (DateTime.UtcNow < quietUntil && cluster.LogLines(ended) == 0)
            {
                await Task.Delay(500);
                if (auditHit || clock.Elapsed - lastKill < TimeSpan.FromSeconds(10))
                    continue;
                look = await LookAsync();
                if (look.AuditSilo is not null)
                    break;
            }
            if (cluster.LogLines(ended) > 0)
                break;
            if (DateTime.UtcNow >= quietUntil)
                look = await LookAsync();

            (int Silo, string Why)? target =
                !auditHit && look.AuditSilo is { } auditing ? (auditing, "the audit's silo")
                : kills.Count >= 1 && !coordinatorHit && look.CoordinatorSilo is { } coordinator
                    ? (coordinator, "the coordinator's silo")
                : kills.Count < Kills ? (random.Next(cluster.LiveSilos), "a random silo")
                : null;
            // After the random kills, only the silo still to be hit: more random kills set the run back (a kill of the
            // training silo resumes it from its checkpoint) and spend the twelve before the audit shows.
            if (target is not { } chosen)
                continue;
            var (victim, why) = chosen;
            coordinatorHit |= why == "the coordinator's silo";
            auditHit |= why == "the audit's silo";
            var port = cluster.SiloPorts[victim];
            cluster.KillSilo(victim);
            cluster.StartSilo();
            lastKill = clock.Elapsed;
            kills.Add(
                $"kill {kills.Count + 1} at {clock.Elapsed.TotalSeconds:F0} s: silo :{port} ({why}), "
                    + $"run in stage '{look.Stage}'"
            );
            Say(kills[^1]);
            if (kills.Count == 3 && !storageRestarted)
            {
                await cluster.RestartStorageAsync();
                storageRestarted = true;
                Say($"storage restarted at {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        var quietSince = DateTime.UtcNow;
        while (cluster.LogLines(ended) == 0)
        {
            Assert.True(
                DateTime.UtcNow - quietSince < TimeSpan.FromMinutes(10),
                $"the run did not end within 10 minutes of the last kill\n{cluster.SiloOutput}"
            );
            await Task.Delay(500);
        }
        Say($"the run ended at {clock.Elapsed.TotalSeconds:F0} s after {kills.Count} kills");
        Assert.True(
            kills.Count >= Kills,
            $"only {kills.Count} kills before the run ended: the run was too short to test\n"
                + $"{string.Join('\n', kills)}"
        );
        Assert.True(
            coordinatorHit && auditHit && storageRestarted,
            $"coordinator {coordinatorHit}, audit {auditHit}, storage {storageRestarted}"
        );

        // Now, and only now, the run's grains are asked.
        var coordinatorGrain = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(Run);
        // A silo killed just before the end may still be in the directory for a few seconds: a call that meets it
        // fails fast and is asked again, as `synth run watch` does.
        var done = await cluster.Retrying(coordinatorGrain.GetPipelineStatus);
        Assert.True(done.State == WorkState.Completed, $"{done.State}: {done.Error}\n{cluster.SiloOutput}");
        var evidence = (await cluster.Retrying(coordinatorGrain.GetDecisions)).Last(d => d.Open).Evidence;
        Assert.Equal(Samples, evidence.SamplesRemaining + evidence.FlaggedSamples);
        Assert.Equal(evidence.TilesTotal, evidence.TilesDone);
        Assert.Equal(
            new WorkProgress(RunGrainIds.TeacherSamples(Run), WorkState.Completed, Samples / 5, Samples / 5, "shards"),
            await cluster.Retrying(() => cluster.Progress(Run, RunGrainIds.TeacherSamples(Run)))
        );

        // Every stage that finished more than once (the driver runs again through finished stages after a loss) said
        // the same.
        var results = Regex
            .Matches(cluster.AllOutput, $@"Pipeline {Run}: stage '([^']+)' done: (.*)$", RegexOptions.Multiline)
            .GroupBy(m => m.Groups[1].Value, m => m.Groups[2].Value.TrimEnd());
        foreach (var stage in results)
            Assert.True(
                stage.Distinct().Count() == 1,
                $"stage '{stage.Key}' ended differently: {string.Join(" | ", stage.Distinct())}"
            );

        // The export reads exactly what the release lists.
        var to = Path.Combine(cluster.Root, "chaos-export");
        var manifest = await Cli.Client.ReleaseExporter.ExportAsync(coordinatorGrain, to, null, CancellationToken.None);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(to, "report.json")));
        foreach (var file in report.RootElement.GetProperty("releasedFiles").EnumerateObject())
            Assert.Equal(
                file.Value.GetString(),
                Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(to, file.Name))))
            );
        Assert.Equal(manifest.Files.Count, Directory.GetFiles(to, "*", SearchOption.AllDirectories).Length);

        // `synth` finds the gateways through the same membership (redis:// or azure://) and reads the run's end.
        var status = await SynthCli.RunAsync(
            ["run", "status", Run, "--json", "--cluster", cluster.ClusterArgument],
            TimeSpan.FromMinutes(2),
            cluster.Secure.ClientEnvironment("operator")
        );
        Assert.True(status.ExitCode == 0, status.Output);
        var state = JsonDocument.Parse(status.Output).RootElement.GetProperty("status").GetProperty("state");
        Assert.Equal("completed", state.GetString());

        var checkedArtifacts = await CheckNoArtifactIsCorruptAsync();
        Say($"{checkedArtifacts} stored artifacts hash to their names; wall time {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// The run's stage and its coordinator's silo, read from the silos' /metrics; while the run is in an audit, the
    /// silo of that audit once it reports (an audit's series outlive it for a while, so only then).
    /// </summary>
    private async Task<(string Stage, int? CoordinatorSilo, int? AuditSilo)> LookAsync()
    {
        var stage = await cluster.SiloReportingLineAsync("orleanssynth_pipeline_stage", Run);
        var name = stage is { } s ? Regex.Match(s.Line, "stage=\"([^\"]+)\"").Groups[1].Value : "?";
        var audit = name switch
        {
            "audit teacher samples" => await cluster.SiloReportingAsync(
                "orleanssynth_audit_",
                RunGrainIds.TeacherAudit(Run)
            ),
            "audit student samples" => await cluster.SiloReportingAsync(
                "orleanssynth_audit_",
                RunGrainIds.StudentAudit(Run)
            ),
            _ => null,
        };
        return (name, stage?.Silo, audit?.Silo);
    }

    private Task SubmitAsync()
    {
        // Checkpoints every 20 steps keep a killed training's loss small.
        var diffusion = new TrainingRunSpec(
            "",
            Steps: TeacherSteps,
            BatchSize: 16,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 20
        );
        return cluster.Submit(
            cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(Run),
            new PipelineSpec(
                cluster.Dataset,
                diffusion,
                diffusion with
                {
                    Steps = TeacherSteps / 2,
                },
                SampleCount: Samples,
                ShardSize: 5,
                Gate: new PipelinePolicy(
                    MinimumSamples: 1,
                    RequireApproval: false,
                    MinimumCanaryRecall: 0,
                    StudentFlaggedRateCeiling: 1
                ),
                Output: $"out/{Run}",
                SamplerSteps: 10,
                EncoderSteps: 200,
                ClassifierSteps: 40,
                SyntheticTile: 16,
                RealTile: 256,
                Canaries: 20
            )
        );
    }

    /// <summary>
    /// Every artifact in the store hashes to its name: over Redis the shared folder's files, over Azure every blob.
    /// </summary>
    private async Task<int> CheckNoArtifactIsCorruptAsync()
    {
        var count = 0;
        if (cluster.Secure.Backend == StorageBackend.Redis)
        {
            foreach (
                var file in Directory.EnumerateFiles(
                    Path.Combine(cluster.Root, "data", "artifacts"),
                    "*",
                    SearchOption.AllDirectories
                )
            )
            {
                var name = Path.GetFileName(file);
                if (name.Length != 64 || Path.GetDirectoryName(file)!.Contains("named"))
                    continue;
                Assert.Equal(name, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
                count++;
            }
            return count;
        }
        var container = new BlobContainerClient(cluster.Secure.Azurite!.ConnectionString, "artifacts");
        await foreach (var blob in container.GetBlobsAsync())
        {
            var content = (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
            Assert.Equal(blob.Name, Convert.ToHexStringLower(SHA256.HashData(content)));
            count++;
        }
        return count;
    }

    private void Say(string line)
    {
        output.WriteLine(line);
        Console.WriteLine($"[chaos {typeof(TCluster).Name}] {line}");
    }
}

/// <summary>Three silo processes over redis-server.</summary>
public sealed class ChaosRedisCluster : RedisSiloProcesses
{
    protected override int InitialSilos => 3;
}

/// <summary>Three silo processes over Azurite.</summary>
public sealed class ChaosAzureCluster : SiloProcesses
{
    protected override StorageBackend Backend => StorageBackend.Azure;

    protected override int InitialSilos => 3;
}

public sealed class ChaosOverRedisTests(ChaosRedisCluster cluster, ITestOutputHelper output)
    : ChaosTests<ChaosRedisCluster>(cluster, output),
        IClassFixture<ChaosRedisCluster>;

public sealed class ChaosOverAzureTests(ChaosAzureCluster cluster, ITestOutputHelper output)
    : ChaosTests<ChaosAzureCluster>(cluster, output),
        IClassFixture<ChaosAzureCluster>;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// The cluster as an attacker holding an ordinary client sees it: a submitter's certificate (an analyst allowed to
/// submit runs), against silo processes over redis-server with mutual TLS. Every way round the gate is tried and
/// refused; afterwards the victim run completes and releases only what its gate let through.
/// </summary>
public sealed class TrustBoundaryAttackTests(TrustBoundaryAttackTests.Cluster cluster)
    : IClassFixture<TrustBoundaryAttackTests.Cluster>
{
    /// <summary>The cluster under attack: its operator's floor asks for approval and a real (if small) audit.</summary>
    public sealed class Cluster : RedisSiloProcesses
    {
        protected override string[] SiloArguments =>
            [
                "--OrleansSynth:PolicyFloor:RequireApproval=true",
                "--OrleansSynth:PolicyFloor:StudentFlaggedRateCeiling=0.9",
                "--OrleansSynth:PolicyFloor:Alpha=0.01",
                "--OrleansSynth:PolicyFloor:Canaries=20",
                "--OrleansSynth:PolicyFloor:EncoderSteps=20",
                "--OrleansSynth:Limits:MaxSteps=5000",
            ];
    }

    private const string Victim = "victim-run";

    [Fact]
    public async Task ASubmitterCannotWeakenTheGateOrReachTheWorkBehindItAndTheVictimReleasesOnlyWhatItsGateLetThrough()
    {
        using var attacker = await cluster.Secure.ConnectAsync("submitter");
        var grains = attacker.Services.GetRequiredService<IClusterClient>();
        var registry = grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key);

        // 1. A spec weaker than the operator's floor, or over a limit, or on data outside the roots: refused, naming
        // the key.
        var valid = Spec(cluster.Dataset);
        foreach (
            var (weakened, key) in new (PipelineSpec, string)[]
            {
                (
                    valid with
                    {
                        Gate = valid.Gate with { StudentFlaggedRateCeiling = 1 },
                    },
                    "gate.studentFlaggedRateCeiling"
                ),
                (valid with { Gate = valid.Gate with { RequireApproval = false } }, "gate.requireApproval"),
                (valid with { Canaries = 0 }, "audit.canaries"),
                (valid with { EncoderSteps = 0 }, "audit.encoderSteps"),
                (valid with { VerifierBatch = 1 }, "audit.verifierBatch"),
                (valid with { VerifierLookAlikes = -1 }, "audit.verifierLookAlikes"),
                (valid with { VerifierLookAlikes = 65 }, "audit.verifierLookAlikes"),
                (valid with { Alpha = 0.0001 }, "audit.alpha"),
                (valid with { Teacher = valid.Teacher with { Steps = 1_000_000 } }, "teacher.steps"),
                (valid with { SampleCount = int.MaxValue, ShardSize = 1 }, "sampling.count"),
            }
        )
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => registry.Submit($"weakened-{key}", weakened));
            Assert.Contains(key, refused.Message);
        }
        var outside = SmallFashionMnist.Write(
            Path.Combine(Path.GetTempPath(), $"outside-roots-{Guid.NewGuid():N}"),
            train: 50,
            test: 20
        );
        try
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => registry.Submit("outside-roots", Spec(outside)));
            Assert.Contains("outside the cluster's data roots", refused.Message);
            // Not even the operator registers data outside the roots.
            var byOperator = await Assert.ThrowsAsync<DatasetRefusedException>(() =>
                cluster.Grains.GetGrain<IDatasetGrain>(outside).Register()
            );
            Assert.Contains("outside the cluster's data roots", byOperator.Message);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }

        // 2. The victim: a valid run, submitted by the same analyst.
        Assert.True((await registry.Submit(Victim, valid)).Created);
        var coordinator = grains.GetGrain<IPipelineCoordinatorGrain>(Victim);
        var status = await coordinator.GetPipelineStatus();
        Assert.Equal(valid.Gate, status.Policy);
        Assert.StartsWith("analyst (submitter)", status.PolicySetBy);

        // 3. The work behind the gate: every stage grain is the cluster's alone, whatever the call.
        var real = new TrainingRunSpec(cluster.Dataset, Steps: 10, BatchSize: 8, BaseChannels: 16, Timesteps: 50);
        var someArtifact = new ArtifactRef(new string('0', 64), 1, "sample-bundle");
        var tile = new AuditTileSpec(RunGrainIds.TeacherAudit(Victim), someArtifact, someArtifact, 0, 1, 0, 1, TopK: 5);
        // the planted student
        await AssertSilosOnly(() => grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Student(Victim)).Start(real));
        await AssertSilosOnly(() =>
            grains
                .GetGrain<IPrivacyAuditGrain>(RunGrainIds.TeacherAudit(Victim))
                .Start(new AuditSpec(cluster.Dataset, [someArtifact], Canaries: 0))
        );
        await AssertSilosOnly(() =>
            grains.GetGrain<IAuditTileGrain>($"{RunGrainIds.TeacherAudit(Victim)}/0-0").Poll(tile)
        );
        await AssertSilosOnly(() => grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Teacher(Victim)).Cancel());
        await AssertSilosOnly(() => grains.GetGrain<ISamplingJobGrain>(RunGrainIds.TeacherSamples(Victim)).Cancel());
        await AssertSilosOnly(() => grains.GetGrain<ITrainingRunGrain>(RunGrainIds.Teacher(Victim)).GetStatus());
        await AssertSilosOnly(() => coordinator.StartStudent(RunGrainIds.Student(Victim), real, "mallory"));
        await AssertSilosOnly(() => coordinator.RequestDistillation("mallory"));
        await AssertSilosOnly(() => coordinator.ApplyFilter());
        await AssertSilosOnly(() => coordinator.Run(valid));
        await AssertSilosOnly(() => grains.GetGrain<IDatasetListGrain>(IDatasetListGrain.Key).Add("/etc"));

        // 4. What is the operator's: approving, cancelling, policy, data, folder audits, internal reports, the
        // management grain.
        await AssertOperatorsOnly(() => coordinator.Approve("looks fine to me"));
        await AssertOperatorsOnly(() => coordinator.Cancel());
        await AssertOperatorsOnly(() =>
            coordinator.Configure(
                new PipelinePolicy(1, RequireApproval: false, MinimumCanaryRecall: 0, StudentFlaggedRateCeiling: 1)
            )
        );
        await AssertOperatorsOnly(() => coordinator.AttachAudit("my-audit", [], []));
        await AssertOperatorsOnly(() => coordinator.GetInternalReport());
        await AssertOperatorsOnly(() => coordinator.ReadInternalReport(0, 100));
        await AssertOperatorsOnly(() => grains.GetGrain<IDatasetGrain>("/etc").Register());
        await AssertOperatorsOnly(() => grains.GetGrain<IDatasetUploadGrain>("upload").Append(0, new byte[16]));
        await AssertOperatorsOnly(() =>
            grains.GetGrain<IExternalAuditGrain>("folder").Submit(new ExternalAuditSpec(cluster.Dataset, "/etc"))
        );
        await AssertOperatorsOnly(() => grains.GetGrain<IManagementGrain>(0).GetHosts());

        // 5. Another analyst sees neither the run nor its release.
        using (var other = await cluster.Secure.ConnectAsync("other-submitter"))
        {
            var otherGrains = other.Services.GetRequiredService<IClusterClient>();
            var theirs = otherGrains.GetGrain<IPipelineCoordinatorGrain>(Victim);
            Assert.Contains(
                "belongs to another principal",
                (await Assert.ThrowsAsync<AccessRefusedException>(() => theirs.GetPipelineStatus())).Message
            );
            await Assert.ThrowsAsync<AccessRefusedException>(() => theirs.GetRelease());
            await Assert.ThrowsAsync<AccessRefusedException>(() => theirs.ReadReleaseFile("report.json", 0, 10));
            Assert.DoesNotContain(await otherGrains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).List(), r =>
                r.Name == Victim
            );
            await other.StopAsync();
        }

        // 6. The operator approves at the gate; the run completes and releases what the gate let through, nothing else.
        var waiting = await TwoSiloCluster.WaitFor(
            coordinator.GetPipelineStatus,
            s => s.State != WorkState.Running || s.Stages.Any(stage => stage.Detail == "waiting for approval"),
            TimeSpan.FromMinutes(8),
            TimeSpan.FromSeconds(1)
        );
        Assert.True(waiting.State == WorkState.Running, $"{waiting.State}: {waiting.Error}\n{cluster.SiloOutput}");
        await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(Victim).Approve("evidence read");
        var done = await TwoSiloCluster.WaitFor(
            coordinator.GetPipelineStatus,
            s => s.State != WorkState.Running,
            TimeSpan.FromMinutes(10),
            TimeSpan.FromSeconds(2)
        );
        Assert.True(done.State == WorkState.Completed, $"{done.State}: {done.Error}\n{cluster.SiloOutput}");
        var opened = (await coordinator.GetDecisions()).Last(d => d.Open).Evidence;
        Assert.Equal("test-operator (operator)", opened.ApprovedBy);
        Assert.Equal(0, opened.FlaggedRemaining);
        // The student trained on the kept synthetic samples: its stage ran (nobody planted one), on the filtered set.
        var filter = done.Stages.Single(s => s.Name == "filter flagged samples").Detail!;
        Assert.Contains($"kept {opened.SamplesRemaining}", filter);
        Assert.Equal(WorkState.Completed, done.Stages.Single(s => s.Name == "train student").State);

        var to = Path.Combine(cluster.Root, "victim-release");
        var manifest = await Cli.Client.ReleaseExporter.ExportAsync(coordinator, to, null, CancellationToken.None);
        Assert.True(manifest.Released);
        var model = await File.ReadAllBytesAsync(Path.Combine(to, "student.ckpt"));
        // The released model: EMA weights, architecture and schedule; no seed, no training settings.
        Assert.DoesNotContain("Seed", System.Text.Encoding.Latin1.GetString(model));
        // The report says who set the gate, by role.
        using var report = System.Text.Json.JsonDocument.Parse(
            await File.ReadAllBytesAsync(Path.Combine(to, "report.json"))
        );
        Assert.Equal(
            "the submitter, at or above the cluster's floor",
            report.RootElement.GetProperty("settings").GetProperty("policySetBy").GetString()
        );
        await attacker.StopAsync();
    }

    [Fact]
    public async Task AConnectionWithoutACertificateOrWithOneFromAnotherCaIsRefused()
    {
        var noCertificate = await SynthCli.RunAsync(
            ["run", "list", "--cluster", cluster.ClusterArgument],
            TimeSpan.FromSeconds(60)
        );
        Assert.True(noCertificate.ExitCode == 3, $"exit {noCertificate.ExitCode}: {noCertificate.Output}");
        Assert.Contains("mutual TLS", noCertificate.Output);

        var certificates = cluster.Secure.Certificates;
        var foreign = await SynthCli.RunAsync(
            [
                "run",
                "list",
                "--cluster",
                cluster.ClusterArgument,
                "--cert",
                certificates.Certificate("foreign"),
                "--key",
                certificates.Key("foreign"),
                "--ca",
                certificates.CaFile,
            ],
            TimeSpan.FromSeconds(60)
        );
        Assert.True(foreign.ExitCode == 3, $"exit {foreign.ExitCode}: {foreign.Output}");
        Assert.Contains("signed by the cluster's CA", foreign.Output);

        // An Orleans client of the attacker's own, without TLS: the gateways do not talk to it.
        using var plain = cluster.Secure.Client("submitter", tls: false);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAnyAsync<Exception>(() => plain.StartAsync(patience.Token));
    }

    [Fact]
    public async Task RedisRefusesAClientWithoutItsPasswordAndTheClientsUserCannotWrite()
    {
        var port = cluster.Secure.RedisPort.ToString();
        var anonymous = await Run("redis-cli", ["-p", port, "SET", "orleanssynth-attack", "1"]);
        Assert.Contains("NOAUTH", anonymous);
        var reader = await Run(
            "redis-cli",
            [
                "-p",
                port,
                "--user",
                "reader",
                "--pass",
                SecureCluster.ReaderPassword,
                "--no-auth-warning",
                "HSET",
                "orleanssynth-attack",
                "field",
                "1",
            ]
        );
        Assert.Contains("NOPERM", reader);
        var flush = await Run(
            "redis-cli",
            ["-p", port, "--user", "reader", "--pass", SecureCluster.ReaderPassword, "--no-auth-warning", "FLUSHALL"]
        );
        Assert.Contains("NOPERM", flush);
    }

    private static async Task<string> Run(string program, string[] arguments)
    {
        using var process = new ExternalProcess(program, arguments);
        await process.ExitCodeAsync(TimeSpan.FromSeconds(30));
        return process.Output;
    }

    private static async Task AssertSilosOnly(Func<Task> call) =>
        Assert.Contains(
            "is for the cluster's silos only",
            (await Assert.ThrowsAsync<AccessRefusedException>(call)).Message
        );

    private static async Task AssertOperatorsOnly(Func<Task> call) =>
        Assert.Contains("needs the operator role", (await Assert.ThrowsAsync<AccessRefusedException>(call)).Message);

    private static PipelineSpec Spec(string dataset)
    {
        var diffusion = new TrainingRunSpec(
            "",
            Steps: 20,
            BatchSize: 16,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 10
        );
        // At the floor exactly: approval, 20 canaries, a 20-step encoder, alpha 0.01, a ceiling of 0.9 (the tiny audit
        // here proves no recall, so the floor's canary minimum is 0 on this test cluster).
        return new PipelineSpec(
            dataset,
            diffusion,
            diffusion with
            {
                Steps = 10,
            },
            SampleCount: 20,
            ShardSize: 10,
            Gate: new PipelinePolicy(
                MinimumSamples: 1,
                RequireApproval: true,
                MinimumCanaryRecall: 0,
                StudentFlaggedRateCeiling: 0.9
            ),
            Output: "out/victim",
            SamplerSteps: 3,
            EncoderSteps: 20,
            ClassifierSteps: 10,
            SyntheticTile: 16,
            RealTile: 256,
            Canaries: 20
        );
    }
}

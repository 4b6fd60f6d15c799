using System.Security.Cryptography;
using System.Text.Json;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// The `synth` client as a separate process against two silo processes over a real redis-server: submit, watch,
/// approve, export, cancel, retry, list, JSON output, and what it says when the input or the cluster is wrong. The
/// client holds a submitter's certificate unless a test gives it the operator's.
/// </summary>
public sealed class ThinClientTests(RedisSiloProcesses cluster) : IClassFixture<RedisSiloProcesses>
{
    private Dictionary<string, string> AsOperator => cluster.Secure.ClientEnvironment("operator");

    [Fact]
    public async Task HelpListsTheCommands()
    {
        var help = await SynthCli.RunAsync(["--help"]);
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "run", "audit", "demo", "datasets" })
            Assert.Contains($"\n  {command} ", help.Output);
    }

    [Fact]
    public async Task TheClientsPublishOutputHoldsNoTorchSharpOrLibtorch()
    {
        var project = Path.GetFullPath(
            Path.Combine(SynthCli.OutputFolder, "..", "..", "..", "OrleansSynth.Cli.csproj")
        );
        var output = Path.Combine(cluster.Root, "client-publish");
        using var publish = new ExternalProcess(
            "dotnet",
            [
                "publish",
                project,
                "-c",
                new DirectoryInfo(SynthCli.OutputFolder).Parent!.Name,
                "--no-build",
                "-o",
                output,
            ]
        );
        Assert.True(await publish.ExitCodeAsync(TimeSpan.FromMinutes(5)) == 0, publish.Output);
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("synth.dll", files);
        Assert.Contains("Orleans.Core.dll", files);
        Assert.DoesNotContain(files, f =>
            f!.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase)
            || f.Contains("torch", StringComparison.OrdinalIgnoreCase)
        );
        Assert.DoesNotContain(files, f =>
            f!.StartsWith("OrleansSynth.ML", StringComparison.Ordinal)
            || f.StartsWith("OrleansSynth.Grains", StringComparison.Ordinal)
        );
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("redis")]
    public async Task AnUnreachableClusterExitsThreeWithinTwentySeconds(string kind)
    {
        var port = ExternalProcess.FreePort();
        var target = kind == "redis" ? $"redis://127.0.0.1:{port}" : $"127.0.0.1:{port}";
        var result = await SynthCli.RunAsync(["run", "list", "--cluster", target], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.Output}");
        // The client gives up after 12 s; the rest is the process starting and stopping, slower on a busy machine.
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(20), $"took {result.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("cannot reach the cluster", result.Output);
    }

    [Fact]
    public async Task ABadSpecExitsTwoNamingTheKey()
    {
        var spec = Spec("bad-spec", teacherSteps: 10, approval: false)
            .Replace("teacher: { steps: 10,", "teacher: { stepz: 10,");
        var path = Path.Combine(cluster.Root, "bad.yaml");
        await File.WriteAllTextAsync(path, spec);
        var result = await SynthCli.RunAsync(["run", "submit", path, "--cluster", cluster.ClusterArgument]);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Output}");
        Assert.Contains("stepz", result.Output);
    }

    [Fact]
    public async Task ARunIsSubmittedWatchedApprovedAndExported()
    {
        const string run = "approved-run";
        var spec = await WriteSpec(run, teacherSteps: 20, approval: true);
        var submit = await Synth(["run", "submit", spec, "--name", run, "--json"]);
        Assert.True(submit.ExitCode == 0, submit.Output);
        Assert.Equal(run, JsonDocument.Parse(submit.Output).RootElement.GetProperty("name").GetString());
        // The same name with another spec is refused, not resumed.
        var other = await WriteSpec(run + "-other", teacherSteps: 21, approval: true);
        var clash = await Synth(["run", "submit", other, "--name", run]);
        Assert.True(clash.ExitCode == 2, clash.Output);

        using var watch = SynthCli.Start(
            ["run", "watch", run, "--cluster", cluster.ClusterArgument],
            cluster.Secure.ClientEnvironment("submitter")
        );
        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        var waiting = await TwoSiloCluster.WaitFor(
            coordinator.GetPipelineStatus,
            s => s.State != WorkState.Running || s.Stages.Any(stage => stage.Detail == "waiting for approval"),
            TimeSpan.FromMinutes(8),
            TimeSpan.FromSeconds(1)
        );
        Assert.True(waiting.State == WorkState.Running, $"{waiting.State}: {waiting.Error}\n{cluster.SiloOutput}");

        // The submitter may not approve its own run (the gate's evidence is shown first); a wrong token is no way
        // round.
        var refused = await Synth(["run", "approve", run]);
        Assert.True(refused.ExitCode == 2, refused.Output);
        Assert.Contains("needs the operator role", refused.Output);
        Assert.Contains("canaries:", refused.Output);
        var wrong = await Synth(["run", "approve", run, "--token", "guess"]);
        Assert.True(wrong.ExitCode == 2, wrong.Output);
        var approved = await Synth(["run", "approve", run, "--note", "evidence read"], AsOperator);
        Assert.True(approved.ExitCode == 0, approved.Output);

        var watched = await watch.ExitCodeAsync(TimeSpan.FromMinutes(10));
        Assert.True(watched == 0, $"watch exit {watched}: {watch.Output}");
        Assert.Contains("done: train student", watch.Output);

        // Export: every file arrives whole and matches both the manifest and the hashes the report lists.
        var to = Path.Combine(cluster.Root, "exported");
        var export = await Synth(["run", "export", run, "--to", to, "--json"]);
        Assert.True(export.ExitCode == 0, export.Output);
        var manifest = await coordinator.GetRelease();
        Assert.NotNull(manifest);
        Assert.True(manifest.Released);
        foreach (var file in manifest.Files)
            Assert.Equal(file.Artifact.Sha256, Sha256(Path.Combine(to, file.Path)));
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(to, "report.json")));
        var listed = report.RootElement.GetProperty("releasedFiles").EnumerateObject().ToList();
        Assert.NotEmpty(listed);
        foreach (var file in listed)
            Assert.Equal(file.Value.GetString(), Sha256(Path.Combine(to, file.Name)));
        Assert.Equal(manifest.Files.Count, Directory.GetFiles(to, "*", SearchOption.AllDirectories).Length);
        Assert.Empty(Directory.GetDirectories(cluster.Root, "exported.partial-*"));

        // The internal report needs the operator role; the submitter gets nothing written.
        var internalPath = Path.Combine(cluster.Root, "internal.json");
        var submitter = await Synth([
            "run",
            "export",
            run,
            "--to",
            Path.Combine(cluster.Root, "exported-2"),
            "--internal-report",
            internalPath,
        ]);
        Assert.True(submitter.ExitCode == 2, submitter.Output);
        Assert.False(File.Exists(internalPath));
        Assert.False(Directory.Exists(Path.Combine(cluster.Root, "exported-2")));
        var byOperator = await Synth(
            ["run", "export", run, "--to", Path.Combine(cluster.Root, "exported-2"), "--internal-report", internalPath],
            AsOperator
        );
        Assert.True(byOperator.ExitCode == 0, byOperator.Output);
        Assert.Contains(
            "\"releasedFiles\"",
            await File.ReadAllTextAsync(internalPath),
            StringComparison.OrdinalIgnoreCase
        );

        var datasets = await Synth(["datasets", "list", "--json"]);
        Assert.True(datasets.ExitCode == 0, datasets.Output);
        Assert.Contains(JsonDocument.Parse(datasets.Output).RootElement.EnumerateArray(), d =>
            d.GetProperty("source").GetString() == cluster.Dataset
        );

        var list = await Synth(["run", "list", "--json"]);
        Assert.True(list.ExitCode == 0, list.Output);
        var runs = JsonDocument.Parse(list.Output).RootElement.EnumerateArray().ToList();
        Assert.Contains(runs, r =>
            r.GetProperty("name").GetString() == run && r.GetProperty("state").GetString() == "completed"
        );
        var status = await Synth(["run", "status", run, "--json"]);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Equal(
            "test-operator (operator)",
            JsonDocument
                .Parse(status.Output)
                .RootElement.GetProperty("gate")
                .GetProperty("evidence")
                .GetProperty("approvedBy")
                .GetString()
        );
    }

    [Fact]
    public async Task ACancelledRunStopsItsWorkAndItsWatchEndsNonZero()
    {
        const string run = "cancelled-run";
        var spec = await WriteSpec(run, teacherSteps: 100_000, approval: false);
        Assert.Equal(0, (await Synth(["run", "submit", spec, "--name", run])).ExitCode);
        Task<WorkProgress?> Teacher() => cluster.Progress(run, RunGrainIds.Teacher(run));
        await TwoSiloCluster.WaitFor(Teacher, p => p?.Done >= 3, TimeSpan.FromMinutes(4), TimeSpan.FromSeconds(1));

        Assert.Equal(2, (await Synth(["run", "cancel", run])).ExitCode);
        var cancel = await Synth(["run", "cancel", run], AsOperator);
        Assert.True(cancel.ExitCode == 0, cancel.Output);
        var stopped = await TwoSiloCluster.WaitFor(
            Teacher,
            p => p?.State == WorkState.Cancelled,
            TimeSpan.FromSeconds(15)
        );
        Assert.Equal(WorkState.Cancelled, stopped?.State);
        // The compute stopped too. Progress is reported every few steps and a stop checkpoints, so the step may move
        // once just after the cancel; after that it stays.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var settled = await Teacher();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var later = await Teacher();
        Assert.True(
            later?.Done == settled?.Done,
            $"step {settled?.Done} after the cancel, {later?.Done} five seconds later"
        );
        var watch = await Synth(["run", "watch", run]);
        Assert.Equal(1, watch.ExitCode);
        Assert.Equal(
            WorkState.Cancelled,
            (await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run).GetPipelineStatus()).State
        );
        // A run that ended before writing a release (cancelled here, or refused at a gate) has nothing
        // to export: said plainly, with the run's exit code, and nothing written.
        var to = Path.Combine(cluster.Root, "cancelled-export");
        var export = await Synth(["run", "export", run, "--to", to]);
        Assert.True(export.ExitCode == 1, export.Output);
        Assert.Contains("nothing to export", export.Output);
        Assert.False(Directory.Exists(to));
    }

    [Fact]
    public async Task AFailedRunIsRetriedFromItsLastFinishedStage()
    {
        const string run = "retried-run";
        var dataset = SmallFashionMnist.Write(Path.Combine(cluster.Root, "retry-dataset"), train: 300, test: 200);
        var spec = await WriteSpec(run, teacherSteps: 30, approval: false, dataset);
        Assert.Equal(0, (await Synth(["run", "submit", spec, "--name", run])).ExitCode);
        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        // Once the dataset is registered, its held-out files disappear: the audit, which needs them, fails for real.
        await TwoSiloCluster.WaitFor(
            coordinator.GetPipelineStatus,
            s => s.Stages.Any(stage => stage.Name == "train teacher"),
            TimeSpan.FromMinutes(2),
            TimeSpan.FromMilliseconds(100)
        );
        var heldOut = Directory.GetFiles(dataset, "t10k-*");
        foreach (var file in heldOut)
            File.Move(file, file + ".away");
        var watchFailed = await Synth(["run", "watch", run], timeout: TimeSpan.FromMinutes(6));
        Assert.True(watchFailed.ExitCode == 1, watchFailed.Output);
        var teacherStage = (await coordinator.GetPipelineStatus()).Stages.Single(s => s.Name == "train teacher");

        foreach (var file in heldOut)
            File.Move(file + ".away", file);
        var retry = await Synth(["run", "retry", run]);
        Assert.True(retry.ExitCode == 0, retry.Output);
        var watch = await Synth(["run", "watch", run], timeout: TimeSpan.FromMinutes(8));
        Assert.True(watch.ExitCode == 0, watch.Output);
        Assert.Equal(
            teacherStage.FinishedAt,
            (await coordinator.GetPipelineStatus()).Stages.Single(s => s.Name == "train teacher").FinishedAt
        );
        // A finished run is not retried.
        Assert.Equal(2, (await Synth(["run", "retry", run])).ExitCode);
    }

    [Fact]
    public async Task AFolderIsAuditedAsAServiceAndOnlyItsAggregateReportIsShareable()
    {
        // Exact copies of five training records, and five images of noise nobody trained on.
        var training = ML.Data.DatasetCatalog.Load(cluster.Dataset, ML.Data.DatasetSplit.Train);
        var folder = Path.Combine(cluster.Root, "external-synthetic");
        Directory.CreateDirectory(folder);
        var random = new Random(3);
        for (var i = 0; i < 5; i++)
        {
            new ML.Imaging.PngImage(training.ImageAt(i * 50).ToArray(), 1, 28, 28).Write(
                Path.Combine(folder, $"copy-{i}.png")
            );
            var noise = new byte[28 * 28];
            random.NextBytes(noise);
            new ML.Imaging.PngImage(noise, 1, 28, 28).Write(Path.Combine(folder, $"noise-{i}.png"));
        }

        // Auditing a folder on the silos is the operator's; a submitter is refused.
        Assert.Equal(
            2,
            (
                await Synth([
                    "audit",
                    "submit",
                    "--dataset",
                    cluster.Dataset,
                    "--synthetic",
                    folder,
                    "--name",
                    "external-by-submitter",
                ])
            ).ExitCode
        );
        var audit = await Synth(
            [
                "audit",
                "submit",
                "--dataset",
                cluster.Dataset,
                "--synthetic",
                folder,
                "--name",
                "external",
                "--encoder-steps",
                "20",
                "--canaries",
                "20",
                "--verifier-steps",
                "20",
                "--wait",
                "--json",
            ],
            AsOperator,
            TimeSpan.FromMinutes(6)
        );
        // Flagged samples: exit 1, with the summary.
        Assert.True(audit.ExitCode == 1, audit.Output);
        var summary = JsonDocument.Parse(audit.Output).RootElement.GetProperty("summary");
        Assert.Equal(10, summary.GetProperty("total").GetInt32());
        Assert.True(summary.GetProperty("flagged").GetInt32() >= 5, audit.Output);
        Assert.Equal(20, summary.GetProperty("canariesPlanted").GetInt32());
        // The pair verifier asked for made the verdicts.
        Assert.Equal(JsonValueKind.Number, summary.GetProperty("verifierThreshold").ValueKind);

        var shareable = Path.Combine(cluster.Root, "external-report.json");
        var export = await Synth(["audit", "export", "external", "--to", shareable], AsOperator);
        Assert.True(export.ExitCode == 0, export.Output);
        var text = await File.ReadAllTextAsync(shareable);
        Assert.Contains("\"singlingOut\"", text);
        // No per-sample verdict and no real record id in the shareable report.
        Assert.DoesNotContain("copy-0.png", text);
        Assert.DoesNotContain(training.RecordIds[0], text);

        var internalPath = Path.Combine(cluster.Root, "external-internal.json");
        Assert.Equal(2, (await Synth(["audit", "export", "external", "--to", internalPath, "--internal"])).ExitCode);
        Assert.False(File.Exists(internalPath));
        Assert.Equal(
            0,
            (await Synth(["audit", "export", "external", "--to", internalPath, "--internal"], AsOperator)).ExitCode
        );
        Assert.Contains(training.RecordIds[0], await File.ReadAllTextAsync(internalPath));
    }

    [Fact]
    public async Task ALocalNpzDatasetIsUploadedThroughTheClusterAndRegistered()
    {
        var npz = await WriteNpz("uploaded.npz", height: 28, width: 28);
        // Registering data is the operator's: a submitter's upload is refused.
        Assert.Equal(2, (await Synth(["datasets", "upload", npz])).ExitCode);
        var upload = await Synth(["datasets", "upload", npz, "--json"], AsOperator);
        Assert.True(upload.ExitCode == 0, upload.Output);
        var info = JsonDocument.Parse(upload.Output).RootElement;
        Assert.Equal(200, info.GetProperty("trainCount").GetInt32());
        Assert.Equal(100, info.GetProperty("testCount").GetInt32());
        // The silos read it from the artifact store, not from this client's disk.
        Assert.DoesNotContain(cluster.Root + "/uploaded.npz", info.GetProperty("source").GetString());
        var manifest = Path.Combine(cluster.Root, "manifest.csv");
        await File.WriteAllTextAsync(manifest, "path,label\n");
        var refused = await Synth(["datasets", "upload", manifest], AsOperator);
        Assert.True(refused.ExitCode == 2, refused.Output);
        Assert.Contains("upload takes one .npz archive", refused.Output);
    }

    [Fact]
    public async Task ADatasetTheModelsCannotTakeIsRefusedWhenRegisteredWithTheReason()
    {
        var wide = await WriteNpz("wide.npz", height: 28, width: 40);
        var refused = await Synth(["datasets", "upload", wide], AsOperator);
        Assert.True(refused.ExitCode == 2, refused.Output);
        Assert.Contains("1x28x40", refused.Output);
        Assert.Contains("square", refused.Output);

        // A run on it fails at its first stage, and `submit --watch` ends saying so; the reason (a dataset's errors can
        // name its files) is the operator's to read.
        var watched = await Synth([
            "run",
            "submit",
            await WriteSpec("wide-run", teacherSteps: 20, approval: false, wide),
            "--name",
            "wide-run",
            "--watch",
        ]);
        Assert.True(watched.ExitCode == 1, watched.Output);
        Assert.Contains("wide-run: failed: ", watched.Output);
        Assert.DoesNotContain("1x28x40", watched.Output);
        var status = await cluster.Grains.GetGrain<IPipelineCoordinatorGrain>("wide-run").GetPipelineStatus();
        Assert.Equal(["register dataset"], status.Stages.Select(s => s.Name));
        Assert.Contains("1x28x40", status.Error);
    }

    /// <summary>A MedMNIST-style archive of random grey images, 200 for training and 100 held out, ten
    /// classes.</summary>
    private async Task<string> WriteNpz(string name, int height, int width)
    {
        var npz = Path.Combine(cluster.Root, name);
        var random = new Random(5);
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            random.NextBytes(b);
            return b;
        }
        byte[] Labels(int n) => Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        using var zip = System.IO.Compression.ZipFile.Open(npz, System.IO.Compression.ZipArchiveMode.Create);
        foreach (
            var (entry, content) in new[]
            {
                (
                    "train_images.npy",
                    ML.Tests.HostileFiles.NpyClaiming("|u1", $"(200, {height}, {width})", Bytes(200 * height * width))
                ),
                ("train_labels.npy", ML.Tests.HostileFiles.NpyClaiming("|u1", "(200,)", Labels(200))),
                (
                    "test_images.npy",
                    ML.Tests.HostileFiles.NpyClaiming("|u1", $"(100, {height}, {width})", Bytes(100 * height * width))
                ),
                ("test_labels.npy", ML.Tests.HostileFiles.NpyClaiming("|u1", "(100,)", Labels(100))),
            }
        )
        {
            await using var stream = zip.CreateEntry(entry).Open();
            await stream.WriteAsync(content);
        }
        return npz;
    }

    private Task<SynthCli.Result> Synth(
        string[] arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null
    ) =>
        SynthCli.RunAsync(
            [.. arguments, "--cluster", cluster.ClusterArgument],
            timeout ?? TimeSpan.FromMinutes(2),
            environment ?? cluster.Secure.ClientEnvironment("submitter")
        );

    private async Task<string> WriteSpec(string name, int teacherSteps, bool approval, string? dataset = null)
    {
        var path = Path.Combine(cluster.Root, $"{name}.yaml");
        await File.WriteAllTextAsync(path, Spec(name, teacherSteps, approval, dataset));
        return path;
    }

    private string Spec(string name, int teacherSteps, bool approval, string? dataset = null) =>
        $$"""
            dataset: {{dataset ?? cluster.Dataset}}
            # The teacher-student path: these runs follow its stages by name.
            strategy: distillation
            output: out/{{name}}
            teacher: { steps: {{teacherSteps}}, batchSize: 16, baseChannels: 16, timesteps: 50 }
            student: { steps: 10, batchSize: 16, baseChannels: 16, timesteps: 50 }
            sampling: { count: 20, shardSize: 10, steps: 3 }
            # The encoder's link rule decides: the default 14,000-step verifier has no place in a test of the client.
            audit: { encoderSteps: 20, canaries: 20, verifierSteps: 0 }
            # A 20-step encoder cannot prove its recall; these runs test the client,
            # so the canary minimum is off here only.
            gate: { minimumSamples: 1, requireApproval: {{(
                approval ? "true" : "false"
            )}}, minimumCanaryRecall: 0, studentFlaggedRateCeiling: 1 }
            utility: { classifierSteps: 10 }
            """;

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}

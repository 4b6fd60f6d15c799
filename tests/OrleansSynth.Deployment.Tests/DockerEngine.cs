using System.Diagnostics;
using OrleansSynth.Cluster.Tests;

namespace OrleansSynth.Deployment.Tests;

/// <summary>
/// A Docker engine of the tests' own (Debian's docker.io, vfs storage, no bridge: every container runs on the host
/// network, so all traffic stays on 127.0.0.1), and the two images built from the repository's real Dockerfiles.
/// Official base images cannot be pulled here, so the builds name local stand-ins through the Dockerfiles' build
/// arguments; everything else is the Dockerfile as shipped.
/// </summary>
public sealed class DockerEngine : IAsyncLifetime
{
    public const string SiloImage = "orleanssynth-silo:test";
    public const string ClientImage = "orleanssynth-client:test";
    public const string RedisImage = "orleanssynth-standin/redis:7";

    private ExternalProcess? _dockerd;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();
    public string Work { get; } = Path.Combine("/var/tmp", "orleanssynth-deployment-tests");

    /// <summary>Image sizes and build times, for the test output.</summary>
    public List<string> Report { get; } = [];

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException(
                "the container tests start their own Docker engine and need root (CI runs as root)"
            );
        Directory.CreateDirectory(Work);
        await StartEngineAsync();
        var clock = Stopwatch.StartNew();
        await Docker.RunToolAsync(
            Path.Combine(AppContext.BaseDirectory, "build-stand-in-images.sh"),
            [Path.Combine(Work, "stand-ins")],
            TimeSpan.FromMinutes(10)
        );
        Report.Add($"stand-in base images ready in {clock.Elapsed.TotalSeconds:F0} s");
        await BuildAsync(
            "Dockerfile.silo",
            SiloImage,
            [
                "--build-arg",
                "SDK_IMAGE=orleanssynth-standin/sdk:10.0",
                "--build-arg",
                "CPU_RUNTIME_IMAGE=orleanssynth-standin/runtime-deps:bookworm",
                // The classic builder builds every stage it reads; the CUDA stage is not used by a CPU build, so name
                // the stand-in.
                "--build-arg",
                "CUDA_RUNTIME_IMAGE=orleanssynth-standin/runtime-deps:bookworm",
            ]
        );
        await BuildAsync(
            "Dockerfile.client",
            ClientImage,
            [
                "--build-arg",
                "SDK_IMAGE=orleanssynth-standin/sdk:10.0",
                "--build-arg",
                "RUNTIME_IMAGE=orleanssynth-standin/runtime-deps:bookworm",
            ]
        );
    }

    private async Task StartEngineAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Docker.Socket)!);
        _dockerd = new ExternalProcess(
            "dockerd",
            [
                $"--host=unix://{Docker.Socket}",
                "--data-root=/var/lib/orleanssynth-tests-docker",
                "--exec-root=/run/orleanssynth-tests-docker/exec",
                "--pidfile=/run/orleanssynth-tests-docker/dockerd.pid",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
            ]
        );
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                await Docker.RunAsync(["info"], TimeSpan.FromSeconds(20));
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline && !_dockerd.HasExited)
            {
                await Task.Delay(500);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException(
                    $"the Docker engine did not start (is docker.io installed? scripts/install-prerequisites.sh "
                        + $"installs it):\n{Docker.Tail(_dockerd.Output)}",
                    e
                );
            }
        }
    }

    private async Task BuildAsync(string dockerfile, string tag, IEnumerable<string> buildArguments)
    {
        var clock = Stopwatch.StartNew();
        await Docker.RunAsync(
            ["build", "--network", "host", "-f", dockerfile, "-t", tag, .. buildArguments, "."],
            TimeSpan.FromMinutes(20),
            RepositoryRoot
        );
        var bytes = long.Parse(
            (await Docker.RunAsync(["image", "inspect", "-f", "{{.Size}}", tag], TimeSpan.FromSeconds(30))).Trim()
        );
        Report.Add($"{tag} from {dockerfile}: built in {clock.Elapsed.TotalSeconds:F0} s, {bytes / 1e6:F0} MB");
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Dockerfile.silo")))
                return folder.FullName;
        throw new DirectoryNotFoundException("no Dockerfile.silo above the test's folder");
    }

    public async Task DisposeAsync()
    {
        if (_dockerd is null)
            return;
        // vfs keeps every superseded image whole: drop them so a developer's repeated runs do not fill the disk.
        try
        {
            await Docker.RunAsync(["image", "prune", "-f"], TimeSpan.FromMinutes(2));
        }
        catch (InvalidOperationException) { }
        // Containers are removed by the tests; stop the engine itself gracefully so it unmounts its layers.
        _dockerd.Terminate();
        try
        {
            await _dockerd.ExitCodeAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException) { }
        _dockerd.Dispose();
    }
}

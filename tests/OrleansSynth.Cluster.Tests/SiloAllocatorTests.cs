using OrleansSynth.ML.Runtime;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A silo process started without the allocator tunables runs under them: glibc reads them only at start, so the silo
/// executes itself again in place, keeping its pid, its arguments and the tunables a user already set.
/// </summary>
public sealed class SiloAllocatorTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-allocator-tests",
        Guid.NewGuid().ToString("N")
    );

    [Fact]
    public async Task ASiloStartedWithoutTheTunablesRunsUnderThemInTheSameProcess()
    {
        const string usersOwn = "glibc.malloc.tcache_count=7";
        var http = ExternalProcess.FreePort();
        using var silo = new ExternalProcess(
            "dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"),
                "--OrleansSynth:Mode=embedded",
                $"--OrleansSynth:DataRoot={Path.Combine(_root, "data")}",
                $"--OrleansSynth:SiloPort={ExternalProcess.FreePort()}",
                $"--OrleansSynth:GatewayPort={ExternalProcess.FreePort()}",
                $"--Urls=http://127.0.0.1:{http}",
            ],
            environment: new Dictionary<string, string> { [NativeAllocator.TunablesVariable] = usersOwn }
        );

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var healthy = await TwoSiloCluster.WaitFor(
            async () =>
            {
                try
                {
                    return (await client.GetAsync($"http://127.0.0.1:{http}/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false; // still starting
                }
            },
            ok => ok || silo.HasExited,
            TimeSpan.FromMinutes(1),
            TimeSpan.FromMilliseconds(250)
        );

        Assert.True(healthy && !silo.HasExited, $"the silo did not come up:\n{silo.Output}");
        // The process the test started is the one serving, and its environment (as of its last execve) has both
        // settings; glibc ends each tunable's value in place as it reads them, so /proc shows the variable cut at every
        // ':'.
        var environment = await File.ReadAllTextAsync($"/proc/{silo.Id}/environ");
        Assert.Contains(
            $"{NativeAllocator.TunablesVariable}={usersOwn}:{NativeAllocator.GlibcTunables}".Replace(':', '\0'),
            environment
        );
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException) { }
    }
}

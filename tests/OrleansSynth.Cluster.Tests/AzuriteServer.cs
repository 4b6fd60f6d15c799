using System.Net;
using System.Net.Sockets;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// Azurite, the Azure Storage emulator (blob, queue, table), as a process of the test's own on loopback, its data in a
/// folder of the test's; stopped and started again on the same data when a test restarts the storage.
/// </summary>
public sealed class AzuriteServer : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account key: not a secret.</summary>
    private const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly (int Blob, int Queue, int Table) _ports = (
        ExternalProcess.FreePort(),
        ExternalProcess.FreePort(),
        ExternalProcess.FreePort()
    );
    private ExternalProcess? _process;

    public string Location { get; } =
        Path.Combine(Path.GetTempPath(), "orleanssynth-azurite", Guid.NewGuid().ToString("N"));

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};"
        + $"BlobEndpoint=http://127.0.0.1:{_ports.Blob}/devstoreaccount1;"
        + $"QueueEndpoint=http://127.0.0.1:{_ports.Queue}/devstoreaccount1;"
        + $"TableEndpoint=http://127.0.0.1:{_ports.Table}/devstoreaccount1;";

    /// <summary>
    /// The Azurite the prerequisites installed (ORLEANSSYNTH_AZURITE, else the tools folder, else PATH).
    /// </summary>
    public static string Program
    {
        get
        {
            if (Environment.GetEnvironmentVariable("ORLEANSSYNTH_AZURITE") is { Length: > 0 } configured)
                return configured;
            var tools = Environment.GetEnvironmentVariable("ORLEANSSYNTH_TOOLS") is { Length: > 0 } root
                ? root
                : Path.Combine(
                    Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                    ".cache",
                    "orleanssynth"
                );
            var installed = Path.Combine(tools, "azurite", "node_modules", ".bin", "azurite");
            return File.Exists(installed) ? installed : "azurite";
        }
    }

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        Directory.CreateDirectory(Location);
        _process = new ExternalProcess(
            Program,
            [
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                _ports.Blob.ToString(),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                _ports.Queue.ToString(),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                _ports.Table.ToString(),
                "--location",
                Location,
                "--skipApiVersionCheck",
                "--loose",
                // Telemetry would call out of the machine, and its client delays the SIGTERM handler a restart needs.
                "--disableTelemetry",
            ]
        );
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Accepts(_ports.Blob) || !Accepts(_ports.Table))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException(
                    $"Azurite did not start ({Program}; scripts/install-prerequisites.sh installs it):\n"
                        + $"{_process.Output}"
                );
            await Task.Delay(200);
        }
    }

    /// <summary>Stops Azurite (SIGTERM: it saves its tables) and starts it again on the same data and ports.</summary>
    public async Task RestartAsync()
    {
        _process!.Terminate();
        await _process.ExitCodeAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        await StartAsync();
    }

    public string Output => _process?.Output ?? "";

    private static bool Accepts(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public Task DisposeAsync()
    {
        _process?.Dispose();
        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (IOException) { }
        return Task.CompletedTask;
    }
}

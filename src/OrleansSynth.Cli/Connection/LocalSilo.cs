using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace OrleansSynth.Cli.Connection;

/// <summary>
/// The silo process on this machine, on local files under a data folder: started on first use, reused by every later
/// command on the same folder (its ports and operator token are in <see cref="StateFileName"/>, readable by this user
/// only), stopped with <c>synth local stop</c>. It runs on after the command that started it, so submitted work goes
/// on.
/// </summary>
internal static class LocalSilo
{
    public const string StateFileName = "local-silo.json";

    /// <summary>Path of the silo host (orleanssynth-silo.dll or its executable) when it is not beside
    /// `synth`.</summary>
    public const string SiloVariable = "ORLEANSSYNTH_SILO";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    public sealed record State(int Pid, int SiloPort, int GatewayPort, int MetricsPort, string Token);

    /// <summary>The running local silo of <paramref name="dataRoot"/>, or null.</summary>
    public static State? Find(string dataRoot)
    {
        var file = Path.Combine(dataRoot, StateFileName);
        if (!File.Exists(file))
            return null;
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(file));
        return state is not null && IsAlive(state.Pid) ? state : null;
    }

    /// <summary>Reuses the local silo of <paramref name="dataRoot"/> or starts one; returns it and whether it was
    /// started now.</summary>
    public static async Task<(State Silo, bool Started)> EnsureAsync(
        string dataRoot,
        Action<string> log,
        CancellationToken cancellationToken
    )
    {
        dataRoot = Path.GetFullPath(dataRoot);
        // Readable by this user only: the silo's state, its artifacts (real data among them) and its token live here.
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(dataRoot);
        else
            Directory.CreateDirectory(
                dataRoot,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            );
        // One starter at a time per folder: two commands at once must not start two silos on one store.
        await using var gate = await LockAsync(Path.Combine(dataRoot, "local-silo.lock"), cancellationToken);
        if (Find(dataRoot) is { } running && await AcceptsAsync(running.GatewayPort))
            return (running, false);

        var state = new State(
            0,
            FreePort(),
            FreePort(),
            FreePort(),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))
        );
        var logFile = Path.Combine(dataRoot, "local-silo.log");
        var (program, arguments) = SiloCommand();
        // setsid: the silo is not in this terminal's process group, so Ctrl-C here stops the command, not the silo.
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (
            var a in new[] { "sh", "-c", "exec \"$0\" \"$@\" >>\"$ORLEANSSYNTH_SILO_LOG\" 2>&1", program }
                .Concat(arguments)
                .Concat([
                    "--OrleansSynth:Mode=embedded",
                    $"--OrleansSynth:DataRoot={dataRoot}",
                    $"--OrleansSynth:SiloPort={state.SiloPort}",
                    $"--OrleansSynth:GatewayPort={state.GatewayPort}",
                    $"--Urls=http://127.0.0.1:{state.MetricsPort}",
                    // One user's machine: their datasets may be anywhere they can read, and they are the operator.
                    "--OrleansSynth:DataRoots:0=/",
                ])
        )
            start.ArgumentList.Add(a);
        start.Environment["ORLEANSSYNTH_SILO_LOG"] = logFile;
        // The token goes by environment, not the command line, which every user of the machine can read.
        start.Environment["OrleansSynth__OperatorToken"] = state.Token;
        log($"starting a local silo on {dataRoot} (log: {logFile})");
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("could not start the local silo process.");
        state = state with { Pid = process.Id };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!await AcceptsAsync(state.GatewayPort))
        {
            if (process.HasExited)
                throw new InvalidOperationException(
                    $"the local silo exited at start-up (code {process.ExitCode}); see {logFile}:\n{Tail(logFile)}"
                );
            if (DateTime.UtcNow > deadline)
                throw new ClusterUnreachableException(
                    $"the local silo did not open its gateway within {StartTimeout.TotalSeconds:F0} s; see {logFile}."
                );
            await Task.Delay(250, cancellationToken);
        }
        // Readable by this user only: it holds the operator token. Created with that mode, so it is never readable by
        // others.
        var file = Path.Combine(dataRoot, StateFileName);
        File.Delete(file);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var writer = new StreamWriter(file, System.Text.Encoding.UTF8, options))
            await writer.WriteAsync(JsonSerializer.Serialize(state));
        return (state, true);
    }

    /// <summary>Stops the local silo of <paramref name="dataRoot"/> (SIGTERM, then waits); false when none
    /// runs.</summary>
    public static async Task<bool> StopAsync(string dataRoot, CancellationToken cancellationToken)
    {
        dataRoot = Path.GetFullPath(dataRoot);
        if (Find(dataRoot) is not { } state)
            return false;
        using var process = Process.GetProcessById(state.Pid);
        // SIGTERM: the silo stops gracefully, its work checkpointed and resumable.
        Process.Start("kill", ["-TERM", state.Pid.ToString()])!.WaitForExit();
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        File.Delete(Path.Combine(dataRoot, StateFileName));
        return true;
    }

    public static ClusterTarget Target(State state) =>
        new([new IPEndPoint(IPAddress.Loopback, state.GatewayPort)], null);

    /// <summary>The silo host to run: <see cref="SiloVariable"/>, else beside this program, else the repository's build
    /// of it.</summary>
    private static (string Program, string[] Arguments) SiloCommand()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(SiloVariable) is { Length: > 0 } configured)
            candidates.Add(configured);
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"));
        // In a source tree: src/OrleansSynth.Cli/bin/<Configuration>/<tfm>/ ->
        // src/OrleansSynth.Silo/bin/<Configuration>/<tfm>/.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        if (here.Parent?.Parent?.Parent?.Parent is { } src)
            candidates.Add(
                Path.Combine(
                    src.FullName,
                    "OrleansSynth.Silo",
                    "bin",
                    here.Parent.Name,
                    here.Name,
                    "orleanssynth-silo.dll"
                )
            );
        var found = candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                $"no silo host found to start a local silo (looked at {string.Join(", ", candidates)}); set "
                    + $"{SiloVariable}, or name a cluster with --cluster."
            );
        return found.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ("dotnet", [found]) : (found, []);
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    private static string Tail(string path) =>
        File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(15)) : "";
}

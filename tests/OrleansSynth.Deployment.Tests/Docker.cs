using OrleansSynth.Cluster.Tests;

namespace OrleansSynth.Deployment.Tests;

/// <summary>The docker command line against the tests' own engine (see <see cref="DockerEngine"/>).</summary>
internal static class Docker
{
    public static readonly string Socket = "/run/orleanssynth-tests-docker/docker.sock";

    public static IReadOnlyDictionary<string, string> Environment { get; } =
        new Dictionary<string, string>
        {
            ["DOCKER_HOST"] = $"unix://{Socket}",
            // No buildx plugin here: the classic builder, which the Dockerfiles are written to build with too.
            ["DOCKER_BUILDKIT"] = "0",
        };

    /// <summary>Runs docker to the end; returns its output, or throws with it when the exit code is not 0.</summary>
    public static async Task<string> RunAsync(
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null
    )
    {
        var list = arguments.ToList();
        using var docker = new ExternalProcess("docker", list, workingDirectory, Environment);
        var exit = await docker.ExitCodeAsync(timeout);
        if (exit != 0)
            throw new InvalidOperationException(
                $"docker {string.Join(' ', list)} exited {exit}:\n{Tail(docker.Output)}"
            );
        return docker.Output;
    }

    /// <summary>Runs a program with the docker environment (the stand-in image script).</summary>
    public static async Task<string> RunToolAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var list = arguments.ToList();
        using var tool = new ExternalProcess(program, list, environment: Environment);
        var exit = await tool.ExitCodeAsync(timeout);
        if (exit != 0)
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', list)} exited {exit}:\n{Tail(tool.Output)}"
            );
        return tool.Output;
    }

    public static string Tail(string output) => output[^Math.Min(6000, output.Length)..];
}

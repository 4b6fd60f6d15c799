namespace OrleansSynth.Grains.Security;

/// <summary>The operator token the cluster accepts for operator actions (from configuration or a Kubernetes Secret).</summary>
public sealed class OperatorOptions
{
    /// <summary>Empty: no token is configured, and every operator action is refused.</summary>
    public string Token { get; set; } = "";
}

using OrleansSynth.Grains.Pipeline;

namespace OrleansSynth.Silo.Hosting;

/// <summary>The "OrleansSynth" configuration section (appsettings, environment OrleansSynth__X, or
/// --OrleansSynth:X).</summary>
public sealed class SiloHostOptions
{
    public const string Section = "OrleansSynth";

    /// <summary>
    /// "embedded": one localhost silo with file storage; "redis": Redis membership, grain state and reminders;
    /// "kubernetes": the same in a pod, with Orleans' Kubernetes hosting (names, addresses and cluster ids from the
    /// pod); "azure": Azure Storage for all of it, artifacts included (no shared volume).
    /// </summary>
    public string Mode { get; set; } = "embedded";

    /// <summary>Local data folder (embedded) or the shared volume every silo mounts (distributed).</summary>
    public string DataRoot { get; set; } = "data";
    public string Redis { get; set; } = "localhost:6379";

    /// <summary>Redis mode (in Kubernetes mode the pod's orleans/clusterId and orleans/serviceId labels
    /// decide).</summary>
    public string ClusterId { get; set; } = "orleanssynth";
    public string ServiceId { get; set; } = "orleanssynth";

    /// <summary>The IP this silo advertises to the cluster (empty: the host's own address); in Kubernetes, the pod
    /// IP.</summary>
    public string AdvertisedIp { get; set; } = "";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public int CpuSlots { get; set; } = 1;

    /// <summary>One compute slot per listed device, e.g. "cuda:0,cuda:1" (empty: one per visible GPU, else CpuSlots on
    /// the CPU).</summary>
    public string Devices { get; set; } = "";

    /// <summary>MiB of loaded dataset pixels a silo keeps for the next job (least recently used out first).</summary>
    public long DatasetCacheMiB { get; set; } = 8192;

    /// <summary>Serve the Orleans dashboard at /dashboard on the HTTP port (off by default: it shows grain state,
    /// unauthenticated).</summary>
    public bool Dashboard { get; set; }

    /// <summary>Accept CSV manifests whose image paths are absolute or climb out of the manifest's folder.</summary>
    public bool AllowManifestPathsOutside { get; set; }

    /// <summary>
    /// A token that makes its holder an operator (the local silo's own); empty: operators need a certificate.
    /// </summary>
    public string OperatorToken { get; set; } = "";

    public SiloTlsOptions Tls { get; set; } = new();

    public SiloAzureOptions Azure { get; set; } = new();

    /// <summary>
    /// Folders datasets and audited folders may come from (the artifact store, where uploads land, is added).
    /// </summary>
    public List<string> DataRoots { get; set; } = [];

    /// <summary>The operator's floor under every run's gate and audit (see PolicyFloorOptions).</summary>
    public PolicyFloorOptions PolicyFloor { get; set; } = new();

    /// <summary>What one client may ask of the cluster (see ClusterLimitsOptions).</summary>
    public ClusterLimitsOptions Limits { get; set; } = new();
}

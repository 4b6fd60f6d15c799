namespace OrleansSynth.Grains.Compute;

public sealed class ComputeWorkerOptions
{
    /// <summary>Concurrent TorchSharp jobs on this silo: one per GPU, or this many on a CPU-only silo.</summary>
    public int CpuSlots { get; set; } = 1;

    /// <summary>One slot per entry, on that device ("cpu", "cuda:0", ...); empty: one per visible GPU, else <see
    /// cref="CpuSlots"/> CPU slots.</summary>
    public IList<string> Devices { get; set; } = [];

    /// <summary>Torch intra-op threads per job on CPU (0: leave TorchSharp's default).</summary>
    public int TorchThreads { get; set; }

    /// <summary>Folder for derived data worth keeping across runs (trained audit encoders, embeddings); shared in a
    /// cluster.</summary>
    public string CacheRoot { get; set; } = Path.Combine("data", "cache");

    /// <summary>
    /// Parts of a job (sampling shards, scan tiles) started at a time per compute slot in the cluster: one computing
    /// and one queued behind it, so a slot does not idle between a part's end and the job's next start.
    /// </summary>
    public int PartsInFlightPerSlot { get; set; } = 2;

    /// <summary>Whether this silo advertises a GPU to placement; null detects it from TorchSharp.</summary>
    public bool? AdvertiseGpu { get; set; }
}

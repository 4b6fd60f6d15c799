namespace OrleansSynth.Grains.Compute;

public sealed class ComputeWorkerOptions
{
    /// <summary>Concurrent TorchSharp jobs on this silo: one per GPU, or this many on a CPU-only silo.</summary>
    public int CpuSlots { get; set; } = 1;

    /// <summary>Torch intra-op threads per job on CPU (0: leave TorchSharp's default).</summary>
    public int TorchThreads { get; set; }

    /// <summary>Folder for derived data worth keeping across runs (trained audit encoders, embeddings); shared in a cluster.</summary>
    public string CacheRoot { get; set; } = Path.Combine("data", "cache");

    /// <summary>Whether this silo advertises a GPU to placement; null detects it from TorchSharp.</summary>
    public bool? AdvertiseGpu { get; set; }
}

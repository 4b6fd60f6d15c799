namespace OrleansSynth.Artifacts.Azure;

/// <summary>Where the artifacts live on Azure Blob Storage, and where a silo keeps its verified copies.</summary>
public sealed class AzureBlobArtifactStoreOptions
{
    /// <summary>
    /// A storage connection string (Azurite's, or an account key's); empty: <see cref="BlobServiceUrl"/>.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The account's blob endpoint (https://ACCOUNT.blob.core.windows.net), reached with a managed or workload
    /// identity.
    /// </summary>
    public string BlobServiceUrl { get; set; } = "";

    public string Container { get; set; } = "artifacts";

    /// <summary>This silo's folder of verified copies (TorchSharp and the dataset readers read files).</summary>
    public string CacheRoot { get; set; } = "artifact-cache";

    /// <summary>Bytes per uploaded block: a blob is committed only when every block is in.</summary>
    public int BlockBytes { get; set; } = 8 << 20;
}

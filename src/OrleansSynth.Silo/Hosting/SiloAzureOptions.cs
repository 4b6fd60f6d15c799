namespace OrleansSynth.Silo.Hosting;

/// <summary>
/// Azure Storage for mode "azure" (section OrleansSynth:Azure): grain state, membership and reminders in tables, the
/// artifacts in a blob container. A connection string (Azurite's, or an account key's, from a Secret), or the account's
/// endpoints reached with a managed or workload identity (Azure.Identity's DefaultAzureCredential).
/// </summary>
public sealed class SiloAzureOptions
{
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// https://ACCOUNT.table.core.windows.net, with an identity (when no connection string is given).
    /// </summary>
    public string TableServiceUrl { get; set; } = "";

    /// <summary>https://ACCOUNT.blob.core.windows.net, with an identity (when no connection string is given).</summary>
    public string BlobServiceUrl { get; set; } = "";

    public string Container { get; set; } = "artifacts";
}

namespace OrleansSynth.Abstractions;

/// <summary>
/// One upload of a dataset archive from a client into the artifact store, keyed by an id the client picks: chunks in
/// order (each at most <see cref="ReleaseManifest.MaxChunk"/> bytes), then Complete with the file's SHA-256. The
/// result is a dataset source every silo can read, to register like any other.
/// </summary>
public interface IDatasetUploadGrain : IGrainWithStringKey
{
    /// <summary>Appends a chunk at <paramref name="offset"/>, which must be the bytes received so far.</summary>
    [ClientCall(ClientRole.Operator)]
    Task Append(long offset, byte[] chunk);

    /// <summary>Checks the whole file against <paramref name="sha256"/>, stores it, and returns its path as a dataset
    /// source.</summary>
    [ClientCall(ClientRole.Operator)]
    Task<string> Complete(string sha256, string fileName);
}

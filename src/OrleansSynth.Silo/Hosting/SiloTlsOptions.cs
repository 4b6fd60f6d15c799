namespace OrleansSynth.Silo.Hosting;

/// <summary>
/// The silo's mutual TLS (section OrleansSynth:Tls): PEM files, e.g. a Kubernetes TLS Secret's tls.crt, tls.key and
/// ca.crt. Required in every mode that listens beyond loopback (redis, kubernetes); the embedded silo listens on
/// loopback only and takes none.
/// </summary>
public sealed class SiloTlsOptions
{
    /// <summary>This silo's certificate; it serves both sides (server to clients and silos, client to silos).</summary>
    public string CertificateFile { get; set; } = "";

    public string KeyFile { get; set; } = "";

    /// <summary>The cluster's CA: only silos and clients whose certificate it signed may connect.</summary>
    public string CaFile { get; set; } = "";

    public bool Configured => CertificateFile.Length > 0 && KeyFile.Length > 0 && CaFile.Length > 0;
}

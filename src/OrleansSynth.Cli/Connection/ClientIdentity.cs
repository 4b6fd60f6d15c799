using System.Security.Cryptography.X509Certificates;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cli.Connection;

/// <summary>
/// Who this client is to the cluster: a client certificate signed by the cluster's CA (mutual TLS, and the principal
/// with its role), or the local silo's token (loopback only, no TLS).
/// </summary>
public sealed record ClientIdentity(string? Token, string? CertificateFile, string? KeyFile, string? CaFile)
{
    public bool UsesTls => CertificateFile is not null;

    /// <summary>
    /// The credential every call carries; null without one (the cluster then refuses every call, saying why).
    /// </summary>
    public ClientCredentials? Credentials() =>
        Token is not null ? ClientCredentials.FromToken(Token)
        : UsesTls ? ClientCredentials.FromCertificate(Certificate())
        : null;

    public X509Certificate2 Certificate() =>
        ClusterCertificates.LoadPair(CertificateFile!, KeyFile ?? CertificateFile!);

    public X509Certificate2Collection Authority() =>
        ClusterCertificates.LoadAuthority(
            CaFile ?? throw new ArgumentException("--ca: the cluster's CA certificate is needed with --cert.")
        );
}

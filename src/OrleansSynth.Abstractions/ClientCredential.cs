using System.Text;

namespace OrleansSynth.Abstractions;

/// <summary>
/// How a client proves who it is on every call, in the call's request context: a token (the local silo's own), or a
/// client certificate signed by the cluster's CA with a signature, by the certificate's key, over the time it was made
/// (proof that the caller holds the key now; a copied credential expires within <see cref="Lifetime"/>).
/// </summary>
public static class ClientCredential
{
    public const string TokenKey = "orleanssynth.credential.token";
    public const string CertificateKey = "orleanssynth.credential.certificate";
    public const string SignatureKey = "orleanssynth.credential.signature";
    public const string IssuedAtKey = "orleanssynth.credential.issued-at";

    /// <summary>
    /// How long a signature is accepted either side of its time (clocks drift; a client re-signs at half).
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>The bytes a certificate's key signs: the time the credential was made, in Unix seconds.</summary>
    public static byte[] SignedContent(long issuedAt) => Encoding.UTF8.GetBytes($"orleanssynth-credential/{issuedAt}");
}

using System.Text;

namespace OrleansSynth.Abstractions;

/// <summary>
/// How a client proves who it is on every call, in the call's request context: a token (the local silo's own), or a
/// client certificate signed by the cluster's CA with a signature, by the certificate's key, over the client's own id
/// (so a copied credential is worthless to another client).
/// </summary>
public static class ClientCredential
{
    public const string TokenKey = "orleanssynth.credential.token";
    public const string CertificateKey = "orleanssynth.credential.certificate";
    public const string SignatureKey = "orleanssynth.credential.signature";

    /// <summary>The bytes a certificate's key signs: the calling client's grain id.</summary>
    public static byte[] SignedContent(GrainId client) => Encoding.UTF8.GetBytes($"orleanssynth-client/{client}");
}

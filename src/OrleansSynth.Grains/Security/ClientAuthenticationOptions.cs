namespace OrleansSynth.Grains.Security;

/// <summary>Which client credentials the cluster trusts (from configuration or Kubernetes Secrets).</summary>
public sealed class ClientAuthenticationOptions
{
    /// <summary>A token that makes its holder an operator (the local silo's own); empty: no token is accepted.</summary>
    public string OperatorToken { get; set; } = "";

    /// <summary>
    /// PEM file of the CA that signs client certificates; empty: no certificate is accepted. The certificate's
    /// organisational unit names its role (<c>OU=operator</c> or <c>OU=submitter</c>), its common name the principal.
    /// </summary>
    public string CertificateAuthorityFile { get; set; } = "";
}

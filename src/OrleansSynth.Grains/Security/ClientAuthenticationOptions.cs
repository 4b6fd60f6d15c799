namespace OrleansSynth.Grains.Security;

/// <summary>Which client credentials the cluster trusts (from configuration or Kubernetes Secrets).</summary>
public sealed class ClientAuthenticationOptions
{
    /// <summary>A token that makes its holder an operator (the local silo's own); empty: no token is
    /// accepted.</summary>
    public string OperatorToken { get; set; } = "";

    /// <summary>
    /// PEM file of the CA that signs client certificates; empty: no certificate is accepted. The certificate's
    /// organisational unit names its role (<c>OU=operator</c> or <c>OU=submitter</c>), its common name the principal.
    /// </summary>
    public string CertificateAuthorityFile { get; set; } = "";

    /// <summary>
    /// Interfaces (full names) any client may call without a credential: the Orleans client runtime's own. Nothing of
    /// the cluster's grains or data is behind them; a test cluster adds its test hooks.
    /// </summary>
    public List<string> OpenInterfaces { get; set; } = ["Orleans.Runtime.IGrainCallCancellationExtension"];
}

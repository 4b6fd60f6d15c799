using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cli.Connection;

/// <summary>
/// Puts this client's credential on every call it makes (<see cref="ClientCredential"/>): the token, or the client
/// certificate with a recent signature by the certificate's key. The cluster's call filter checks it.
/// </summary>
public sealed class ClientCredentials : IOutgoingGrainCallFilter, IDisposable
{
    private readonly string? _token;
    private readonly X509Certificate2? _certificate;
    private (long IssuedAt, byte[] Signature)? _signed;

    private ClientCredentials(string? token, X509Certificate2? certificate) =>
        (_token, _certificate) = (token, certificate);

    public static ClientCredentials FromToken(string token) => new(token, null);

    /// <summary>A certificate with its private key (e.g. from PEM files).</summary>
    public static ClientCredentials FromCertificate(X509Certificate2 certificate) =>
        certificate.HasPrivateKey
            ? new(null, certificate)
            : throw new ArgumentException($"the client certificate '{certificate.Subject}' has no private key.");

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (_token is not null)
            RequestContext.Set(ClientCredential.TokenKey, _token);
        else if (_certificate is not null)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            // Re-signed at half the lifetime, so a call never carries a signature about to expire.
            if (_signed is not { } signed || now - signed.IssuedAt > ClientCredential.Lifetime.TotalSeconds / 2)
                _signed = signed = (now, Sign(now));
            RequestContext.Set(ClientCredential.CertificateKey, _certificate.RawData);
            RequestContext.Set(ClientCredential.IssuedAtKey, signed.IssuedAt);
            RequestContext.Set(ClientCredential.SignatureKey, signed.Signature);
        }
        await context.Invoke();
    }

    private byte[] Sign(long issuedAt)
    {
        var content = ClientCredential.SignedContent(issuedAt);
        var certificate = _certificate!;
        if (certificate.GetECDsaPrivateKey() is { } ecdsa)
            using (ecdsa)
                return ecdsa.SignData(content, HashAlgorithmName.SHA256);
        if (certificate.GetRSAPrivateKey() is { } rsa)
            using (rsa)
                return rsa.SignData(content, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        throw new ArgumentException(
            $"the client certificate '{certificate.Subject}' has neither an ECDSA nor an RSA key."
        );
    }

    public void Dispose() => _certificate?.Dispose();
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansSynth.Tests.Shared;

/// <summary>
/// A cluster's certificates, made at test time and written as PEM files (as a Kubernetes TLS Secret holds them): a CA,
/// a silo certificate, an operator's and a submitter's client certificates, and a certificate from another CA.
/// </summary>
public sealed class TestCertificates
{
    public TestCertificates(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = Authority("CN=OrleansSynth test CA", caKey);
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        Issue(ca, caKey, "silo", "CN=orleanssynth-silo, OU=silo", serverToo: true);
        Issue(ca, caKey, "operator", "CN=test-operator, OU=operator");
        Issue(ca, caKey, "submitter", "CN=analyst, OU=submitter");
        Issue(ca, caKey, "other-submitter", "CN=other-analyst, OU=submitter");
        using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var foreign = Authority("CN=Someone else's CA", foreignKey);
        Issue(foreign, foreignKey, "foreign", "CN=test-operator, OU=operator");
    }

    public string Folder { get; }
    public string CaFile => Path.Combine(Folder, "ca.crt");

    public string Certificate(string name) => Path.Combine(Folder, $"{name}.crt");

    public string Key(string name) => Path.Combine(Folder, $"{name}.key");

    private static X509Certificate2 Authority(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true)
        );
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
    }

    private void Issue(X509Certificate2 ca, ECDsa caKey, string name, string subject, bool serverToo = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usages = new OidCollection { new("1.3.6.1.5.5.7.3.2") }; // client authentication
        if (serverToo)
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1")); // server authentication: silos are both
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var issued = request.Create(
            ca.SubjectName,
            X509SignatureGenerator.CreateForECDsa(caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5),
            DateTimeOffset.UtcNow.AddDays(1),
            RandomNumberGenerator.GetBytes(16)
        );
        File.WriteAllText(Certificate(name), issued.ExportCertificatePem());
        File.WriteAllText(Key(name), key.ExportPkcs8PrivateKeyPem());
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace L4Rt.Bridge;

/// <summary>
/// A private CA and certificates it signs, as PEM files: what <c>l4rt-bridge certs</c> makes for trying bridges out
/// (and the tests and the benchmark harness use). Production bridges take certificates from the operator's own PKI.
/// </summary>
internal sealed class DevCertificates : IDisposable
{
    private readonly string _dir;
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;

    /// <summary>Makes a new CA (<c>ca.pem</c>, and <c>ca.key</c> only if <paramref name="keepCaKey"/>) in <paramref name="dir"/>.</summary>
    internal DevCertificates(string dir, string caName = "l4rt-bridge-dev-ca", bool keepCaKey = false)
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={caName}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365));
        CaPath = Path.Combine(dir, $"{caName}.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
        if (keepCaKey)
        {
            WritePrivate(Path.Combine(dir, $"{caName}.key"), _caKey.ExportPkcs8PrivateKeyPem());
        }
    }

    /// <summary>The CA certificate (what every bridge's <c>TrustedCaPath</c> names).</summary>
    internal string CaPath { get; }

    /// <summary>A certificate for the bridge <paramref name="name"/> (its CN; server and client use, SAN localhost and 127.0.0.1 plus <paramref name="hosts"/>).</summary>
    internal (string Cert, string Key) Issue(string name, IEnumerable<string>? hosts = null, string? file = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        SubjectAlternativeNameBuilder san = new();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        foreach (string host in hosts ?? [])
        {
            if (IPAddress.TryParse(host, out IPAddress? ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 issued = request.Create(_ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(364), RandomNumberGenerator.GetBytes(12));
        string cert = Path.Combine(_dir, $"{file ?? name}.pem");
        string keyPath = Path.Combine(_dir, $"{file ?? name}.key");
        File.WriteAllText(cert, issued.ExportCertificatePem());
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyPath);
    }

    private static void WritePrivate(string path, string text)
    {
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, text);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }
}

// Local certificate authority for the sandbox. The real providers are HTTPS-only and official SDKs
// depend on that (the Graph SDK only attaches tokens to https:// hosts), so the sandbox serves HTTPS
// with a CA generated on first start and kept in the data directory. Clients trust it through `ca`
// or NODE_EXTRA_CA_CERTS — never by disabling verification.
import { webcrypto } from 'node:crypto';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type KeyUsage = webcrypto.KeyUsage;
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import './reflectShim.ts';

const x509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type X509Certificate = InstanceType<typeof x509.X509Certificate>;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TlsMaterial {
  caCertPem: string;
  /** Leaf certificate for 127.0.0.1, ::1 and localhost, signed by the CA. */
  certPem: string;
  keyPem: string;
  caCertPath: string;
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string, usages: KeyUsage[]): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('empty PEM');
  return webcrypto.subtle.importKey('pkcs8', der, alg, true, usages) as Promise<CryptoKey>;
}

async function createCa(): Promise<{ cert: X509Certificate; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '1'),
    name: 'CN=Tether Sandbox Local CA, O=Tether Sandbox',
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keyPem: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

async function createLeaf(ca: X509Certificate, caKey: CryptoKey): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '2'),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** Loads the CA and leaf certificate from `dataDir/tls`, creating whichever is missing or expiring. */
export async function loadOrCreateTls(dataDir: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'localhost.pem');
  const keyPath = join(dir, 'localhost-key.pem');
  let caCert: X509Certificate;
  let caKeyPem: string;
  if (existsSync(caCertPath) && existsSync(caKeyPath)) {
    caCert = new x509.X509Certificate(readFileSync(caCertPath, 'utf8'));
    caKeyPem = readFileSync(caKeyPath, 'utf8');
  } else {
    const created = await createCa();
    caCert = created.cert;
    caKeyPem = created.keyPem;
    writeFileSync(caKeyPath, caKeyPem, { mode: 0o600 });
    writeFileSync(caCertPath, caCert.toString('pem'));
  }
  const weekAhead = Date.now() + 7 * 24 * 3600_000;
  if (existsSync(certPath) && existsSync(keyPath)) {
    const leaf = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
    if (leaf.notAfter.getTime() > weekAhead && leaf.issuer === caCert.subject && (await leaf.verify({ publicKey: caCert.publicKey }))) {
      return { caCertPem: caCert.toString('pem'), certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8'), caCertPath };
    }
  }
  const leaf = await createLeaf(caCert, await importKey(caKeyPem, ['sign']));
  writeFileSync(keyPath, leaf.keyPem, { mode: 0o600 });
  writeFileSync(certPath, leaf.certPem);
  return { caCertPem: caCert.toString('pem'), certPem: leaf.certPem, keyPem: leaf.keyPem, caCertPath };
}

// Local certificate authority for the sandbox. The real providers are HTTPS-only and official SDKs
// depend on that (the Graph SDK only attaches tokens to https:// hosts), so the sandbox serves HTTPS
// with a CA generated on first start and kept in the data directory. Clients trust it through `ca`
// or NODE_EXTRA_CA_CERTS — never by disabling verification.
import { webcrypto } from 'node:crypto';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type KeyUsage = webcrypto.KeyUsage;
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * The CA is created at most once per data directory, even when several processes start on a fresh
 * one together: key and certificate are written as one file under a private temporary name and
 * published with an atomic link() that fails if another process got there first — then that
 * process's CA is used. ca.pem / ca-key.pem are derived copies, replaced atomically.
 */
async function loadOrCreateCa(caCertPath: string, caKeyPath: string): Promise<{ caCert: X509Certificate; caKeyPem: string }> {
  const pairPath = `${caKeyPath}.pair`;
  if (!existsSync(pairPath)) {
    // Data directories from before the pair file: adopt their CA rather than replacing it.
    const pair = existsSync(caCertPath) && existsSync(caKeyPath) ? `${readFileSync(caKeyPath, 'utf8')}${readFileSync(caCertPath, 'utf8')}` : await createCa().then((c) => `${c.keyPem}${c.cert.toString('pem')}`);
    const tmp = `${pairPath}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, pair, { mode: 0o600 });
    try {
      linkSync(tmp, pairPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const pair = readFileSync(pairPath, 'utf8');
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(pair)?.[0];
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(pair)?.[0];
  if (!keyPem || !certPem) throw new Error(`${pairPath} is not a CA key + certificate pair; remove the tls directory to start over`);
  publish(caKeyPath, keyPem, 0o600);
  publish(caCertPath, certPem, 0o644);
  return { caCert: new x509.X509Certificate(certPem), caKeyPem: keyPem };
}

function publish(path: string, content: string, mode: number): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}

/** Loads the CA and leaf certificate from `dataDir/tls`, creating whichever is missing or expiring. */
export async function loadOrCreateTls(dataDir: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'localhost.pem');
  const keyPath = join(dir, 'localhost-key.pem');
  const { caCert, caKeyPem } = await loadOrCreateCa(caCertPath, caKeyPath);
  const weekAhead = Date.now() + 7 * 24 * 3600_000;
  // The leaf key and certificate live in one file, replaced atomically, so a process never reads
  // one process's key with another's certificate.
  const leafPairPath = `${keyPath}.pair`;
  if (existsSync(leafPairPath)) {
    const pair = readFileSync(leafPairPath, 'utf8');
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(pair)?.[0];
    const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(pair)?.[0];
    if (keyPem && certPem) {
      const leaf = new x509.X509Certificate(certPem);
      if (leaf.notAfter.getTime() > weekAhead && leaf.issuer === caCert.subject && (await leaf.verify({ publicKey: caCert.publicKey }))) {
        return { caCertPem: caCert.toString('pem'), certPem, keyPem, caCertPath };
      }
    }
  }
  const leaf = await createLeaf(caCert, await importKey(caKeyPem, ['sign']));
  publish(leafPairPath, `${leaf.keyPem}${leaf.certPem}`, 0o600);
  publish(keyPath, leaf.keyPem, 0o600);
  publish(certPath, leaf.certPem, 0o644);
  return { caCertPem: caCert.toString('pem'), certPem: leaf.certPem, keyPem: leaf.keyPem, caCertPath };
}

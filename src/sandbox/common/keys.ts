// RS256 signing keys for ID tokens, one per provider, kept in the data directory so tokens and
// JWKS stay stable across restarts of a standalone sandbox.
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  publicJwk: JWK;
  sign(payload: JWTPayload, opts?: { typ?: string }): Promise<string>;
}

export async function loadOrCreateSigningKey(dataDir: string, name: string): Promise<SigningKey> {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}-rs256.json`);
  if (!existsSync(file)) {
    // Published with an atomic link so concurrent first starts agree on one key and never read a
    // half-written file.
    const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const kid = createHash('sha256').update(`${privateJwk.n}`).digest('base64url').slice(0, 27);
  const publicJwk: JWK = { kty: 'RSA', use: 'sig', kid, n: privateJwk.n!, e: privateJwk.e!, alg: 'RS256' };
  const key = await importJWK({ ...privateJwk, alg: 'RS256' }, 'RS256');
  return {
    kid,
    publicJwk,
    sign: (payload, opts = {}) => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: opts.typ ?? 'JWT' }).sign(key),
  };
}

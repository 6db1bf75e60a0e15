// RS256 signing keys for ID tokens, one per provider, kept in the data directory so tokens and
// JWKS stay stable across restarts of a standalone sandbox.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    privateJwk = await exportJWK(privateKey);
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const kid = createHash('sha256').update(`${privateJwk.n}`).digest('base64url').slice(0, 27);
  const publicJwk: JWK = { kty: 'RSA', use: 'sig', kid, n: privateJwk.n!, e: privateJwk.e!, alg: 'RS256' };
  const key = await importJWK({ ...privateJwk, alg: 'RS256' }, 'RS256');
  return {
    kid,
    publicJwk,
    sign: (payload, opts = {}) => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: opts.typ ?? 'JWT' }).sign(key),
  };
}

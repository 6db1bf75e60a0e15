import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { TetherError } from '../../src/errors.ts';
import { providerDefinitionSchema } from '../../src/providers/definition.ts';
import { EndpointProfiles } from '../../src/providers/profiles.ts';
import { providerDefinition, providers } from '../../src/providers/registry.ts';

const seed001 = readFileSync(new URL('../../../shared/seeds/001_fd7f3a4cda31d6cb.txt', import.meta.url), 'utf8');

describe('provider definitions', () => {
  it('has one valid definition per provider', () => {
    assert.deepEqual([...providers.keys()].sort(), ['google', 'microsoft', 'webex']);
  });

  it('rejects a definition whose preset names a scope that is not in the catalog', () => {
    const broken = structuredClone(JSON.parse(readFileSync(new URL('../../src/providers/webex/provider.json', import.meta.url), 'utf8')));
    broken.scopePresets[0].scopes.push('spark:made_up');
    const parsed = providerDefinitionSchema.safeParse(broken);
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /spark:made_up is not in the catalog/);
  });

  it("catalogs every Webex admin and compliance scope of seed 001, with presets for compliance with and without meetings", () => {
    const seedScopes = new Set(seed001.match(/\b(?:spark|spark-admin|spark-compliance|meeting):[a-z_]+/g));
    assert.ok(seedScopes.size >= 30, `found ${seedScopes.size} scopes in the seed`);
    const webex = providerDefinition('webex');
    const catalog = new Set(webex.scopes.map((s) => s.name));
    for (const scope of seedScopes) assert.ok(catalog.has(scope), `${scope} is in the Webex catalog`);
    const compliance = webex.scopePresets.find((p) => p.id === 'webex-compliance')!;
    const withMeetings = webex.scopePresets.find((p) => p.id === 'webex-compliance-meetings')!;
    assert.ok(compliance.scopes.includes('spark-compliance:messages_read') && !compliance.scopes.includes('meeting:recordings_read'));
    assert.deepEqual(withMeetings.scopes.filter((s) => !compliance.scopes.includes(s)).sort(), ['meeting:admin_recordings_read', 'meeting:recordings_read']);
    assert.deepEqual(webex.scopePresets.find((p) => p.id === 'message-scheduler')!.scopes, ['spark:kms', 'spark:messages_write', 'spark:people_read']);
  });

  it('records the quirks the OAuth flow must honour', () => {
    assert.ok(providerDefinition('microsoft').baseScopes.includes('offline_access'));
    assert.deepEqual(
      { access_type: providerDefinition('google').authorizationParams.access_type, prompt: providerDefinition('google').authorizationParams.prompt },
      { access_type: 'offline', prompt: 'consent' },
    );
    assert.equal(providerDefinition('microsoft').refreshTokens, 'rotates-always');
    assert.equal(providerDefinition('google').refreshTokens, 'never-returned-on-refresh');
    assert.equal(providerDefinition('microsoft').subjectClaim, 'oid');
  });
});

describe('endpoint profiles', () => {
  const profiles = new EndpointProfiles();

  it('resolves the worldwide and US Government (moderate) Microsoft clouds, filling the tenant', () => {
    for (const cloud of ['worldwide', 'usgov']) {
      const e = profiles.resolve('microsoft', cloud, 'contoso.onmicrosoft.com');
      assert.equal(e.authorizationEndpoint, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
      assert.equal(e.issuerFor('72f988bf-86f1-41af-91ab-2d7cd011db47'), 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0');
      assert.equal(e.apiBaseUrl, 'https://graph.microsoft.com/v1.0');
    }
  });

  it('refuses DoD, GCC High, China and Germany with an error naming the cloud', () => {
    for (const [cloud, name] of [['dod', 'DoD'], ['gcc-high', 'GCC High'], ['china', 'China'], ['germany', 'Germany']] as const) {
      assert.throws(
        () => profiles.resolve('microsoft', cloud, 'contoso.onmicrosoft.com'),
        (err: unknown) => err instanceof TetherError && err.status === 422 && err.code === 'unsupported_cloud' && err.message.includes(name),
        cloud,
      );
    }
  });

  it('serves operator profiles and the sandbox, and refuses unknown names', () => {
    const endpoints = {
      issuer: 'https://idp.test/{tenantid}/v2.0',
      authorizationEndpoint: 'https://idp.test/{tenant}/authorize',
      tokenEndpoint: 'https://idp.test/{tenant}/token',
      revocationEndpoint: null,
      jwksUri: 'https://idp.test/keys',
      apiBaseUrl: 'https://api.idp.test/v1.0',
    };
    const custom = new EndpointProfiles({ 'test-authority': { microsoft: endpoints } });
    assert.equal(custom.resolve('microsoft', 'test-authority', 't1').tokenEndpoint, 'https://idp.test/t1/token');
    assert.deepEqual(custom.available('microsoft'), ['worldwide', 'usgov', 'test-authority']);
    assert.deepEqual(custom.available('google'), ['worldwide']);
    assert.throws(() => custom.resolve('google', 'test-authority'), (err: unknown) => err instanceof TetherError && err.code === 'unknown_profile');
    custom.useSandbox({ google: { ...endpoints, issuer: 'https://127.0.0.1:9999' } });
    assert.equal(custom.resolve('google', 'sandbox').issuer, 'https://127.0.0.1:9999');
    assert.throws(() => new EndpointProfiles({ usgov: { microsoft: endpoints } }), /built-in/);
  });
});

describe('profile and connect configuration', () => {
  function withConfigFile(text: string, fn: (file: string) => void) {
    const dir = mkdtempSync(join(tmpdir(), 'tether-cfg-'));
    const file = join(dir, 'tether.yaml');
    writeFileSync(file, text);
    try {
      fn(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('accepts profiles and return origins from the config file and env', () => {
    withConfigFile(
      `profiles:\n  test-authority:\n    microsoft:\n      issuer: https://idp.test/{tenantid}/v2.0\n      authorizationEndpoint: https://idp.test/{tenant}/authorize\n      tokenEndpoint: https://idp.test/{tenant}/token\n      jwksUri: https://idp.test/keys\n      apiBaseUrl: http://127.0.0.1:9443/v1.0\n`,
      (file) => {
        const config = loadConfig({ TETHER_CONFIG: file, TETHER_ALLOWED_RETURN_ORIGINS: 'https://crm.example.com, http://localhost:3000' });
        assert.equal(config.profiles['test-authority']?.microsoft?.revocationEndpoint, null);
        assert.deepEqual(config.connect.allowedReturnOrigins, ['https://crm.example.com', 'http://localhost:3000']);
      },
    );
  });

  it('reports plain-http, credential-bearing and malformed endpoints, and non-origin return URLs', () => {
    withConfigFile(
      `profiles:\n  bad:\n    google:\n      issuer: http://idp.example.com\n      authorizationEndpoint: https://user:pw@idp.test/a\n      tokenEndpoint: not a url\n      jwksUri: https://idp.test/keys\n      apiBaseUrl: https://idp.test\n      extra: 1\nconnect:\n  allowedReturnOrigins: [https://crm.example.com/path]\n`,
      (file) => {
        assert.throws(
          () => loadConfig({ TETHER_CONFIG: file }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            const text = err.problems.join('\n');
            for (const key of ['profiles.bad.google.issuer', 'profiles.bad.google.authorizationEndpoint', 'profiles.bad.google.tokenEndpoint', 'profiles.bad.google', 'connect.allowedReturnOrigins.0']) {
              assert.ok(text.includes(key), `report names ${key}:\n${text}`);
            }
            return true;
          },
        );
      },
    );
  });
});

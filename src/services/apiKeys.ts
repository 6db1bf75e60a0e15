import type { Db } from '../db/database.ts';
import type { ApiKey } from '../db/schema.ts';
import { errors } from '../errors.ts';
import { apiKeysRepository } from '../repositories/apiKeys.ts';
import { newApiKey, sha256 } from '../security/tokens.ts';
import { audit } from './audit.ts';
import type { CallContext } from './context.ts';

/** Org API keys: shown once at creation, stored as SHA-256, revocable, with a last-used time. */
export class ApiKeysService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async create(ctx: CallContext, orgId: string, name: string): Promise<{ apiKey: ApiKey; key: string }> {
    const { key, prefix } = newApiKey();
    const createdBy = ctx.principal?.kind === 'user' ? ctx.principal.user.id : null;
    const apiKey = await this.db.transaction().execute(async (tx) => {
      const row = await apiKeysRepository.create(tx, { org_id: orgId, name, prefix, secret_hash: sha256(key), created_by: createdBy });
      await audit(tx, ctx, { orgId, action: 'api_key.create', target: { type: 'api_key', id: row.id }, details: { name, prefix } });
      return row;
    });
    return { apiKey, key };
  }

  list(orgId: string, page: { after?: string; limit: number }): Promise<ApiKey[]> {
    return apiKeysRepository.list(this.db, orgId, page);
  }

  async revoke(ctx: CallContext, orgId: string, keyId: string): Promise<ApiKey> {
    return this.db.transaction().execute(async (tx) => {
      const before = await apiKeysRepository.findById(tx, orgId, keyId);
      if (!before) throw errors.notFound('The API key');
      const row = (await apiKeysRepository.revoke(tx, orgId, keyId))!;
      if (!before.revoked_at) {
        await audit(tx, ctx, { orgId, action: 'api_key.revoke', target: { type: 'api_key', id: keyId }, details: { prefix: row.prefix } });
      }
      return row;
    });
  }
}

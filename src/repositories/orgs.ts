import type { Queryable } from '../db/database.ts';
import type { Org } from '../db/schema.ts';

export const orgsRepository = {
  create(db: Queryable, org: { slug: string; name: string }): Promise<Org> {
    return db.insertInto('orgs').values(org).returningAll().executeTakeFirstOrThrow();
  },
  list(db: Queryable): Promise<Org[]> {
    return db.selectFrom('orgs').selectAll().orderBy('created_at').orderBy('id').execute();
  },
  findById(db: Queryable, id: string): Promise<Org | undefined> {
    return db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
  },
  findBySlug(db: Queryable, slug: string): Promise<Org | undefined> {
    return db.selectFrom('orgs').selectAll().where('slug', '=', slug).executeTakeFirst();
  },
};

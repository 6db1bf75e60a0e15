import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Group, Org, Role, User } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import { groupsRepository } from '../repositories/groups.ts';
import { orgsRepository } from '../repositories/orgs.ts';
import { sessionsRepository } from '../repositories/sessions.ts';
import { usersRepository } from '../repositories/users.ts';
import { hashPassword } from '../security/passwords.ts';
import { audit } from './audit.ts';
import type { CallContext } from './context.ts';

export interface NewUserInput {
  email: string;
  displayName: string;
  role: Role;
  externalId?: string | null | undefined;
  password?: string | undefined;
  groupIds?: string[] | undefined;
}

export interface UserChanges {
  email?: string | undefined;
  displayName?: string | undefined;
  role?: Role | undefined;
  externalId?: string | null | undefined;
  password?: string | undefined;
  groupIds?: string[] | undefined;
}

export type UserWithGroups = User & { groupIds: string[] };

function invalidGroups(missing: string[]): TetherError {
  return new TetherError(422, 'unknown_group', 'Some group ids are not groups of this org.', { details: { groupIds: missing } });
}

function userConflict(err: unknown): never {
  if (isUniqueViolation(err, 'users_org_email')) throw errors.conflict('A user with this email already exists in the org.');
  if (isUniqueViolation(err, 'users_org_external_id')) throw errors.conflict('A user with this external id already exists in the org.');
  throw err;
}

/** Orgs, users and groups. Every change commits together with its audit event. */
export class AccountsService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async createOrg(ctx: CallContext, input: { slug: string; name: string }): Promise<Org> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const org = await orgsRepository.create(tx, input);
        await audit(tx, ctx, { orgId: org.id, action: 'org.create', target: { type: 'org', id: org.id }, details: { slug: org.slug } });
        return org;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`An org with the slug "${input.slug}" already exists.`);
      throw err;
    }
  }

  listOrgs(): Promise<Org[]> {
    return orgsRepository.list(this.db);
  }

  async getOrg(orgId: string): Promise<Org> {
    const org = await orgsRepository.findById(this.db, orgId);
    if (!org) throw errors.notFound('The org');
    return org;
  }

  /** The user's org and group ids, in one round trip (for GET /me, which every host app calls). */
  async orgAndGroupsOf(orgId: string, userId: string): Promise<{ org: Org; groupIds: string[] }> {
    const row = await this.db
      .selectFrom('orgs')
      .selectAll()
      .select((eb) =>
        eb.fn
          .coalesce(
            eb.selectFrom('group_members').select((g) => g.fn.agg<string[]>('array_agg', ['group_id']).as('ids')).where('user_id', '=', userId).where('org_id', '=', orgId),
            sql<string[]>`'{}'::uuid[]`,
          )
          .as('group_ids'),
      )
      .where('id', '=', orgId)
      .executeTakeFirst();
    if (!row) throw errors.notFound('The org');
    const { group_ids, ...org } = row;
    return { org, groupIds: group_ids.toSorted() };
  }

  async findOrgBySlug(slug: string): Promise<Org | undefined> {
    return orgsRepository.findBySlug(this.db, slug);
  }

  async createUser(ctx: CallContext, orgId: string, input: NewUserInput): Promise<UserWithGroups> {
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const groupIds = [...new Set(input.groupIds ?? [])];
    try {
      return await this.db.transaction().execute(async (tx) => {
        const known = await groupsRepository.existingIds(tx, orgId, groupIds);
        const missing = groupIds.filter((id) => !known.has(id));
        if (missing.length > 0) throw invalidGroups(missing);
        const user = await usersRepository.create(tx, {
          org_id: orgId,
          email: input.email,
          display_name: input.displayName,
          role: input.role,
          external_id: input.externalId ?? null,
          password_hash: passwordHash,
        });
        await groupsRepository.setGroupsOfUser(tx, orgId, user.id, groupIds);
        await audit(tx, ctx, {
          orgId,
          action: 'user.create',
          target: { type: 'user', id: user.id },
          details: { role: user.role, groupIds },
        });
        return { ...user, groupIds: groupIds.toSorted() };
      });
    } catch (err) {
      userConflict(err);
    }
  }

  async getUser(orgId: string, userId: string): Promise<UserWithGroups> {
    const user = await usersRepository.findById(this.db, orgId, userId);
    if (!user) throw errors.notFound('The user');
    return { ...user, groupIds: await groupsRepository.groupIdsOfUser(this.db, orgId, userId) };
  }

  async listUsers(orgId: string, page: { after?: string; limit: number }): Promise<User[]> {
    return usersRepository.list(this.db, orgId, page);
  }

  async updateUser(ctx: CallContext, orgId: string, userId: string, changes: UserChanges): Promise<UserWithGroups> {
    const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
    try {
      return await this.db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', userId).forUpdate().executeTakeFirst();
        if (!before) throw errors.notFound('The user');
        if (changes.role === 'member' && before.role === 'admin' && (await usersRepository.countAdmins(tx, orgId)) <= 1) {
          throw errors.conflict('The org must keep at least one admin.');
        }
        const user = (await usersRepository.update(tx, orgId, userId, {
          ...(changes.email !== undefined && { email: changes.email }),
          ...(changes.displayName !== undefined && { display_name: changes.displayName }),
          ...(changes.role !== undefined && { role: changes.role }),
          ...(changes.externalId !== undefined && { external_id: changes.externalId }),
          ...(passwordHash !== undefined && { password_hash: passwordHash }),
        }))!;
        if (changes.groupIds !== undefined) {
          const groupIds = [...new Set(changes.groupIds)];
          const known = await groupsRepository.existingIds(tx, orgId, groupIds);
          const missing = groupIds.filter((id) => !known.has(id));
          if (missing.length > 0) throw invalidGroups(missing);
          await groupsRepository.setGroupsOfUser(tx, orgId, userId, groupIds);
        }
        // A new password or a lower role ends the user's browser sessions.
        if (passwordHash !== undefined || (changes.role && changes.role !== before.role)) {
          await sessionsRepository.deleteForUser(tx, orgId, userId);
        }
        await audit(tx, ctx, {
          orgId,
          action: 'user.update',
          target: { type: 'user', id: userId },
          details: { fields: Object.keys(changes).filter((k) => changes[k as keyof UserChanges] !== undefined) },
        });
        return { ...user, groupIds: await groupsRepository.groupIdsOfUser(tx, orgId, userId) };
      });
    } catch (err) {
      userConflict(err);
    }
  }

  async deleteUser(ctx: CallContext, orgId: string, userId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', userId).forUpdate().executeTakeFirst();
      if (!user) throw errors.notFound('The user');
      if (user.role === 'admin' && (await usersRepository.countAdmins(tx, orgId)) <= 1) {
        throw errors.conflict('The org must keep at least one admin.');
      }
      await usersRepository.delete(tx, orgId, userId);
      await audit(tx, ctx, { orgId, action: 'user.delete', target: { type: 'user', id: userId } });
    });
  }

  async createGroup(ctx: CallContext, orgId: string, name: string): Promise<Group> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const group = await groupsRepository.create(tx, { org_id: orgId, name });
        await audit(tx, ctx, { orgId, action: 'group.create', target: { type: 'group', id: group.id }, details: { name } });
        return group;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`A group named "${name}" already exists.`);
      throw err;
    }
  }

  async getGroup(orgId: string, groupId: string): Promise<Group & { memberIds: string[] }> {
    const group = await groupsRepository.findById(this.db, orgId, groupId);
    if (!group) throw errors.notFound('The group');
    return { ...group, memberIds: await groupsRepository.memberIds(this.db, orgId, groupId) };
  }

  listGroups(orgId: string, page: { after?: string; limit: number }): Promise<Group[]> {
    return groupsRepository.list(this.db, orgId, page);
  }

  async renameGroup(ctx: CallContext, orgId: string, groupId: string, name: string): Promise<Group> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const group = await groupsRepository.rename(tx, orgId, groupId, name);
        if (!group) throw errors.notFound('The group');
        await audit(tx, ctx, { orgId, action: 'group.update', target: { type: 'group', id: groupId }, details: { name } });
        return group;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`A group named "${name}" already exists.`);
      throw err;
    }
  }

  async deleteGroup(ctx: CallContext, orgId: string, groupId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (!(await groupsRepository.delete(tx, orgId, groupId))) throw errors.notFound('The group');
      await audit(tx, ctx, { orgId, action: 'group.delete', target: { type: 'group', id: groupId } });
    });
  }

  async setMembership(ctx: CallContext, orgId: string, groupId: string, userId: string, member: boolean): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const group = await groupsRepository.findById(tx, orgId, groupId);
      const user = group && (await usersRepository.findById(tx, orgId, userId));
      if (!group || !user) throw errors.notFound(group ? 'The user' : 'The group');
      const changed = member
        ? await groupsRepository.addMember(tx, orgId, groupId, userId)
        : await groupsRepository.removeMember(tx, orgId, groupId, userId);
      if (changed) {
        await audit(tx, ctx, {
          orgId,
          action: member ? 'group.member.add' : 'group.member.remove',
          target: { type: 'group', id: groupId },
          details: { userId },
        });
      }
    });
  }
}

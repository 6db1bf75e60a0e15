import type { Route } from '../types.ts';
import { documentRoutes } from './documents/index.ts';
import { deleteApiKey } from './apiKeys/deleteApiKey.ts';
import { listApiKeys } from './apiKeys/listApiKeys.ts';
import { postApiKey } from './apiKeys/postApiKey.ts';
import { listAuditEvents } from './auditEvents/listAuditEvents.ts';
import { getMe } from './auth/getMe.ts';
import { getConnect } from './connect/getConnect.ts';
import { getOAuthCallback } from './connect/getOAuthCallback.ts';
import { postConnectSession } from './connect/postConnectSession.ts';
import { deleteConnection } from './connections/deleteConnection.ts';
import { getConnection } from './connections/getConnection.ts';
import { getConnectionByHandle } from './connections/getConnectionByHandle.ts';
import { listConnections } from './connections/listConnections.ts';
import { patchConnection } from './connections/patchConnection.ts';
import { proxyRequest } from './connections/proxyRequest.ts';
import { postLogin } from './auth/postLogin.ts';
import { postLogout } from './auth/postLogout.ts';
import { deleteGroup } from './groups/deleteGroup.ts';
import { deleteGroupMember } from './groups/deleteGroupMember.ts';
import { getGroup } from './groups/getGroup.ts';
import { listGroups } from './groups/listGroups.ts';
import { patchGroup } from './groups/patchGroup.ts';
import { postGroup } from './groups/postGroup.ts';
import { putGroupMember } from './groups/putGroupMember.ts';
import { getHealthz } from './health/getHealthz.ts';
import { getReadyz } from './health/getReadyz.ts';
import { deleteOrgApiKey } from './operator/deleteOrgApiKey.ts';
import { getOrg } from './operator/getOrg.ts';
import { listOrgAdmins } from './operator/listOrgAdmins.ts';
import { listOrgApiKeys } from './operator/listOrgApiKeys.ts';
import { listOrgs } from './operator/listOrgs.ts';
import { postOrg } from './operator/postOrg.ts';
import { postOrgAdmin } from './operator/postOrgAdmin.ts';
import { postOrgApiKey } from './operator/postOrgApiKey.ts';
import { deleteProviderApp } from './providerApps/deleteProviderApp.ts';
import { getProviderApp } from './providerApps/getProviderApp.ts';
import { listProviderApps } from './providerApps/listProviderApps.ts';
import { patchProviderApp } from './providerApps/patchProviderApp.ts';
import { postProviderApp } from './providerApps/postProviderApp.ts';
import { postProviderAppReconfigure } from './providerApps/postProviderAppReconfigure.ts';
import { postProviderAppVerify } from './providerApps/postProviderAppVerify.ts';
import { listProviders } from './providers/listProviders.ts';
import { deleteUser } from './users/deleteUser.ts';
import { getUser } from './users/getUser.ts';
import { listUsers } from './users/listUsers.ts';
import { patchUser } from './users/patchUser.ts';
import { postUser } from './users/postUser.ts';
import { deleteWebhook } from './webhooks/deleteWebhook.ts';
import { getWebhook } from './webhooks/getWebhook.ts';
import { listWebhookDeliveries } from './webhooks/listWebhookDeliveries.ts';
import { listWebhooks } from './webhooks/listWebhooks.ts';
import { patchWebhook } from './webhooks/patchWebhook.ts';
import { postWebhook } from './webhooks/postWebhook.ts';
import { postWebhookSecret } from './webhooks/postWebhookSecret.ts';
import { postWebhookTest } from './webhooks/postWebhookTest.ts';

/** Every HTTP endpoint, explicitly. */
export const routes: readonly Route[] = [
  getHealthz, getReadyz,
  postLogin, postLogout, getMe,
  postOrg, listOrgs, getOrg, postOrgAdmin, listOrgAdmins, postOrgApiKey, listOrgApiKeys, deleteOrgApiKey,
  listUsers, postUser, getUser, patchUser, deleteUser,
  listGroups, postGroup, getGroup, patchGroup, deleteGroup, putGroupMember, deleteGroupMember,
  listApiKeys, postApiKey, deleteApiKey,
  listAuditEvents,
  listProviders, listProviderApps, postProviderApp, getProviderApp, patchProviderApp, deleteProviderApp, postProviderAppVerify, postProviderAppReconfigure,
  postConnectSession, getConnect, getOAuthCallback,
  listConnections, getConnection, getConnectionByHandle, patchConnection, deleteConnection, proxyRequest,
  listWebhooks, postWebhook, getWebhook, patchWebhook, deleteWebhook, postWebhookSecret, postWebhookTest, listWebhookDeliveries,
  ...documentRoutes,
];

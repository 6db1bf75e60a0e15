import type { Route } from '../../types.ts';
import { deleteItem } from './deleteItem.ts';
import { getContent } from './getContent.ts';
import { getItem } from './getItem.ts';
import { getThumbnail } from './getThumbnail.ts';
import { listDrives } from './listDrives.ts';
import { listItems } from './listItems.ts';
import { listPermissions } from './listPermissions.ts';
import { patchItem } from './patchItem.ts';
import { postLink } from './postLink.ts';
import { postPreview } from './postPreview.ts';
import { postResolveSharedLink } from './postResolveSharedLink.ts';
import { searchItems } from './searchItems.ts';
import { uploadRoutes } from './uploads.ts';

/** The documents API under /api/v1/connections/{id}. */
export const documentRoutes: readonly Route[] = [
  listDrives, listItems, getItem, searchItems, getThumbnail, getContent, postPreview, postLink, listPermissions, postResolveSharedLink, patchItem, deleteItem, uploadRoutes,
];

// $top / $skiptoken paging with absolute @odata.nextLink URLs. The skiptoken names the last item
// returned (by its sort key), so inserts and deletes between pages never repeat or skip others.
import type { SbRequest } from '../../common/http.ts';
import type { MsItem } from '../store.ts';

export interface Page {
  items: MsItem[];
  nextLink?: string;
}

function encodeToken(item: MsItem): string {
  return Buffer.from(`Paged=TRUE&p_FileLeafRef=${encodeURIComponent(item.name)}&p_ID=${item.id}`).toString('base64url');
}

function decodeToken(token: string): { name: string; id: string } | undefined {
  const p = new URLSearchParams(Buffer.from(token, 'base64url').toString('utf8'));
  const name = p.get('p_FileLeafRef');
  const id = p.get('p_ID');
  return name !== null && id ? { name, id } : undefined;
}

function after(a: MsItem, key: { name: string; id: string }): boolean {
  return a.name > key.name || (a.name === key.name && a.id > key.id);
}

/** `sorted` must be ordered by (name, id). Returns undefined for an invalid $top/$skiptoken. */
export function pageOf(req: SbRequest, sorted: MsItem[], defaultTop = 200, maxTop = 999): Page | 'bad-top' | 'bad-token' {
  const topRaw = req.query.get('$top') ?? req.query.get('top');
  const top = topRaw === null ? defaultTop : Number(topRaw);
  if (!Number.isInteger(top) || top < 1) return 'bad-top';
  const size = Math.min(top, maxTop);
  const tokenRaw = req.query.get('$skiptoken');
  let start = 0;
  if (tokenRaw) {
    const key = decodeToken(tokenRaw);
    if (!key) return 'bad-token';
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (after(sorted[mid]!, key)) hi = mid;
      else lo = mid + 1;
    }
    start = lo;
  }
  const items = sorted.slice(start, start + size);
  if (start + size >= sorted.length || items.length === 0) return { items };
  const next = new URL(req.url.pathname + req.url.search, req.origin);
  next.searchParams.set('$skiptoken', encodeToken(items[items.length - 1]!));
  if (topRaw !== null) next.searchParams.set('$top', String(top));
  return { items, nextLink: next.toString().replace(/%24/g, '$') };
}

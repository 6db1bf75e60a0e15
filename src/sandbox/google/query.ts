// Drive v3 search query (`q`) parser and evaluator for the forms real clients use:
// `'<id>' in parents`, `trashed = false`, `name contains '…'`, `mimeType = '…'`, `and`/`or`/`not`,
// parentheses, time comparisons, `fullText contains`, `sharedWithMe`, `'<email>' in owners`.
// https://developers.google.com/workspace/drive/api/guides/ref-search-terms
import type { GFile } from './store.ts';

type Token = { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string } | { t: '('} | { t: ')' };

export interface QueryContext {
  /** Resolves aliases such as 'root' to file ids. */
  alias(id: string): string;
  ownerEmail(file: GFile): string | undefined;
  roleOf(file: GFile, email: string): string | undefined;
  sharedWithMe(file: GFile): boolean;
  text(file: GFile): string;
}

export type Predicate = ((f: GFile, ctx: QueryContext) => boolean) & {
  /** Set when every match must have this parent (a top-level `'<id>' in parents` conjunct). */
  parentHint?: string;
};

export class QueryError extends Error {}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= q.length) throw new QueryError('unterminated string');
        const d = q[i]!;
        if (d === '\\' && i + 1 < q.length) {
          v += q[i + 1];
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      out.push({ t: 'str', v });
    } else if (c === '(' || c === ')') {
      out.push({ t: c });
      i++;
    } else if (/[<>=!]/.test(c)) {
      const two = q.slice(i, i + 2);
      if (['!=', '<=', '>='].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if (c === '!') {
        throw new QueryError('bad operator');
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else if (/[A-Za-z_]/.test(c)) {
      let v = '';
      while (i < q.length && /[A-Za-z_0-9.]/.test(q[i]!)) v += q[i++];
      out.push({ t: 'id', v });
    } else {
      throw new QueryError(`unexpected character ${c}`);
    }
  }
  return out;
}

const TIME_FIELDS: Record<string, keyof GFile> = { modifiedTime: 'modifiedTime', createdTime: 'createdTime' };

function compare(a: number | string, op: string, b: number | string): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
  throw new QueryError(`operator ${op} not supported here`);
}

export function parseQuery(q: string): Predicate {
  const toks = tokenize(q);
  let pos = 0;
  const peek = () => toks[pos];
  const isWord = (w: string) => {
    const t = peek();
    return t?.t === 'id' && t.v.toLowerCase() === w;
  };
  const expect = <T extends Token['t']>(t: T): Extract<Token, { t: T }> => {
    const tok = toks[pos++];
    if (!tok || tok.t !== t) throw new QueryError(`expected ${t}`);
    return tok as Extract<Token, { t: T }>;
  };

  const term = (): Predicate => {
    const tok = peek();
    if (!tok) throw new QueryError('unexpected end of query');
    if (tok.t === 'str') {
      pos++;
      if (!isWord('in')) throw new QueryError("expected 'in'");
      pos++;
      const coll = expect('id').v;
      const value = tok.v;
      switch (coll) {
        case 'parents':
          return Object.assign((f: GFile, ctx: QueryContext) => f.parents.includes(ctx.alias(value)), { parentHint: value });
        case 'owners':
          return (f, ctx) => ctx.ownerEmail(f) === value.toLowerCase();
        case 'writers':
          return (f, ctx) => ['owner', 'organizer', 'fileOrganizer', 'writer'].includes(ctx.roleOf(f, value.toLowerCase()) ?? '');
        case 'readers':
          return (f, ctx) => ctx.roleOf(f, value.toLowerCase()) !== undefined;
        default:
          throw new QueryError(`unknown collection ${coll}`);
      }
    }
    if (tok.t !== 'id') throw new QueryError('expected a field');
    pos++;
    const field = tok.v;
    if (field === 'sharedWithMe' && (peek()?.t !== 'op')) return (f, ctx) => ctx.sharedWithMe(f);
    const opTok = peek();
    let op: string;
    if (opTok?.t === 'op') {
      op = opTok.v;
      pos++;
    } else if (isWord('contains')) {
      op = 'contains';
      pos++;
    } else throw new QueryError(`expected an operator after ${field}`);
    const valTok = toks[pos++];
    if (!valTok || (valTok.t !== 'str' && valTok.t !== 'id')) throw new QueryError('expected a value');
    const raw = valTok.v;
    const bool = () => {
      if (valTok.t !== 'id' || (raw !== 'true' && raw !== 'false')) throw new QueryError(`${field} takes true or false`);
      if (op !== '=' && op !== '!=') throw new QueryError(`${field} supports = and !=`);
      return raw === 'true';
    };
    const str = () => {
      if (valTok.t !== 'str') throw new QueryError(`${field} takes a quoted string`);
      return raw;
    };
    switch (field) {
      case 'name': {
        const v = str();
        if (op === 'contains') return (f) => f.name.toLowerCase().split(/[\s._-]+/).some((w) => w.startsWith(v.toLowerCase())) || f.name.toLowerCase().startsWith(v.toLowerCase());
        if (op === '=' || op === '!=') return (f) => compare(f.name, op, v);
        throw new QueryError('name supports contains, = and !=');
      }
      case 'mimeType': {
        const v = str();
        if (op === 'contains') return (f) => f.mimeType.includes(v);
        if (op === '=' || op === '!=') return (f) => compare(f.mimeType, op, v);
        throw new QueryError('mimeType supports contains, = and !=');
      }
      case 'fullText': {
        const v = str().toLowerCase();
        if (op !== 'contains') throw new QueryError('fullText supports contains');
        return (f, ctx) => ctx.text(f).toLowerCase().includes(v);
      }
      case 'trashed': {
        const b = bool();
        return (f) => (f.trashed === b) === (op === '=');
      }
      case 'starred': {
        const b = bool();
        return (f) => (f.starred === b) === (op === '=');
      }
      case 'sharedWithMe': {
        const b = bool();
        return (f, ctx) => (ctx.sharedWithMe(f) === b) === (op === '=');
      }
      default: {
        const key = TIME_FIELDS[field];
        if (!key) throw new QueryError(`unknown field ${field}`);
        const t = Date.parse(str().match(/[zZ]|[+-]\d\d:\d\d$/) ? raw : `${raw}Z`);
        if (Number.isNaN(t)) throw new QueryError('invalid date');
        if (op === 'contains') throw new QueryError(`${field} does not support contains`);
        return (f) => compare(f[key] as number, op, t);
      }
    }
  };
  const unary = (): Predicate => {
    if (isWord('not')) {
      pos++;
      const inner = unary();
      return (f, c) => !inner(f, c);
    }
    if (peek()?.t === '(') {
      pos++;
      const inner = orExpr();
      expect(')');
      return inner;
    }
    return term();
  };
  const andExpr = (): Predicate => {
    let left = unary();
    while (isWord('and')) {
      pos++;
      const l = left;
      const r = unary();
      const hint = l.parentHint ?? r.parentHint;
      left = Object.assign((f: GFile, c: QueryContext) => l(f, c) && r(f, c), hint !== undefined ? { parentHint: hint } : {});
    }
    return left;
  };
  const orExpr = (): Predicate => {
    let left = andExpr();
    while (isWord('or')) {
      pos++;
      const l = left;
      const r = andExpr();
      left = (f, c) => l(f, c) || r(f, c);
    }
    return left;
  };
  const pred = orExpr();
  if (pos !== toks.length) throw new QueryError('trailing input');
  return pred;
}

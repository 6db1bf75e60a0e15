// Partial responses (`fields=`): "nextPageToken,files(id,name,parents)", "files/id", "*".
// https://developers.google.com/workspace/drive/api/guides/fields-parameter
export type FieldTree = Map<string, FieldTree | true>;

export class FieldsError extends Error {}

export function parseFields(spec: string): FieldTree {
  let pos = 0;
  const parseList = (): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      while (spec[pos] === ' ') pos++;
      let name = '';
      while (pos < spec.length && /[A-Za-z0-9_*]/.test(spec[pos]!)) name += spec[pos++];
      if (!name) throw new FieldsError(`Invalid field selection ${spec}`);
      let sub: FieldTree | true = true;
      if (spec[pos] === '/') {
        pos++;
        sub = parsePath();
      } else if (spec[pos] === '(') {
        pos++;
        sub = parseList();
        if (spec[pos] !== ')') throw new FieldsError(`Invalid field selection ${spec}`);
        pos++;
      }
      const prev = tree.get(name);
      tree.set(name, prev && prev !== true && sub !== true ? merge(prev, sub) : prev === true ? true : sub);
      while (spec[pos] === ' ') pos++;
      if (spec[pos] === ',') {
        pos++;
        continue;
      }
      return tree;
    }
  };
  const parsePath = (): FieldTree => {
    let name = '';
    while (pos < spec.length && /[A-Za-z0-9_*]/.test(spec[pos]!)) name += spec[pos++];
    if (!name) throw new FieldsError(`Invalid field selection ${spec}`);
    if (spec[pos] === '/') {
      pos++;
      return new Map([[name, parsePath()]]);
    }
    if (spec[pos] === '(') {
      pos++;
      const inner = parseList();
      if (spec[pos] !== ')') throw new FieldsError(`Invalid field selection ${spec}`);
      pos++;
      return new Map([[name, inner]]);
    }
    return new Map([[name, true]]);
  };
  const tree = parseList();
  if (pos !== spec.length) throw new FieldsError(`Invalid field selection ${spec}`);
  return tree;
}

function merge(a: FieldTree, b: FieldTree): FieldTree {
  const out: FieldTree = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur === true || v === true ? true : cur ? merge(cur, v) : v);
  }
  return out;
}

/** Applies `tree` to `value`; `known` lists valid top-level names (unknown → FieldsError). */
export function applyFields(value: Record<string, unknown>, tree: FieldTree, known?: Set<string>): Record<string, unknown> {
  if (tree.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of tree) {
    if (known && !known.has(k)) throw new FieldsError(`Invalid field selection ${k}`);
    if (!(k in value)) continue;
    const v = value[k];
    if (sub === true || v === null || typeof v !== 'object') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map((x) => (x && typeof x === 'object' ? applyFields(x as Record<string, unknown>, sub) : x));
    else out[k] = applyFields(v as Record<string, unknown>, sub);
  }
  return out;
}

// A small strict validator shared by the fidelity tests. Specs (Graph CSDL, Google discovery,
// Webex OpenAPI) are converted to these shapes; a response must use only declared field names,
// with the declared JSON types, and carry every required field. Unknown fields are errors, so
// renaming a field in the sandbox makes the fidelity tests fail.
export type Shape =
  | { kind: 'string'; format?: string; enum?: string[] }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'array'; items: () => Shape }
  | { kind: 'object'; name: string; properties: Map<string, { shape: () => Shape; nullable: boolean }>; required: Set<string>; additional?: () => Shape }
  | { kind: 'any' };

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export interface ValidateOptions {
  /** Annotation keys allowed anywhere (e.g. "@odata.context"). */
  allowedAnnotations?: Set<string>;
  /** Skip the required-field check (for $select / fields= partial responses). */
  partial?: boolean;
  /** Polymorphic objects: return the shape named by the value itself (e.g. "@odata.type"). */
  resolveType?: (value: Record<string, unknown>) => Shape | undefined;
}

export function validate(value: unknown, shape: Shape, opts: ValidateOptions = {}, path = '$'): string[] {
  const errors: string[] = [];
  const walk = (v: unknown, s: Shape, p: string) => {
    switch (s.kind) {
      case 'any':
        return;
      case 'string':
        if (typeof v !== 'string') return void errors.push(`${p}: expected string, got ${JSON.stringify(v)?.slice(0, 60)}`);
        if (s.format === 'date-time' && !DATE_TIME.test(v)) errors.push(`${p}: not an RFC 3339 date-time: ${v}`);
        if (s.format === 'int64' && !/^-?\d+$/.test(v)) errors.push(`${p}: int64 must be a decimal string: ${v}`);
        if (s.format === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) errors.push(`${p}: not a GUID: ${v}`);
        if (s.enum && !v.split(',').every((part) => s.enum!.includes(part.trim()))) errors.push(`${p}: ${v} is not one of ${s.enum.join('|')}`);
        return;
      case 'number':
        if (typeof v !== 'number' || (s.integer && !Number.isInteger(v))) errors.push(`${p}: expected ${s.integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') errors.push(`${p}: expected boolean, got ${JSON.stringify(v)}`);
        return;
      case 'array':
        if (!Array.isArray(v)) return void errors.push(`${p}: expected array`);
        v.forEach((x, i) => walk(x, s.items(), `${p}[${i}]`));
        return;
      case 'object': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return void errors.push(`${p}: expected object (${s.name})`);
        const obj = v as Record<string, unknown>;
        const actual = opts.resolveType?.(obj) ?? s;
        if (actual.kind !== 'object') return walk(v, actual, p);
        for (const [k, x] of Object.entries(obj)) {
          if (k.startsWith('@') && opts.allowedAnnotations?.has(k)) continue;
          const prop = actual.properties.get(k);
          if (!prop) {
            if (actual.additional) walk(x, actual.additional(), `${p}.${k}`);
            else errors.push(`${p}.${k}: not a property of ${actual.name}`);
            continue;
          }
          if (x === null) {
            if (!prop.nullable) errors.push(`${p}.${k}: null but not nullable in ${actual.name}`);
            continue;
          }
          walk(x, prop.shape(), `${p}.${k}`);
        }
        if (!opts.partial) for (const r of actual.required) if (!(r in obj)) errors.push(`${p}: missing required ${actual.name}.${r}`);
        return;
      }
    }
  };
  walk(value, shape, path);
  return errors;
}

/** A collection envelope built on the fly, e.g. Graph's {value: [...], @odata.nextLink}. */
export function objectShape(name: string, props: Record<string, Shape>, required: string[] = []): Shape {
  return { kind: 'object', name, properties: new Map(Object.entries(props).map(([k, s]) => [k, { shape: () => s, nullable: false }])), required: new Set(required) };
}

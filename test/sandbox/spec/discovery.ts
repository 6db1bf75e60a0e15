// Google API discovery documents (/work/shared/specs/google-*-discovery.json) → validator shapes.
import { readFileSync } from 'node:fs';
import type { Shape } from './shapes.ts';

interface DSchema {
  type?: string;
  format?: string;
  $ref?: string;
  properties?: Record<string, DSchema>;
  items?: DSchema;
  additionalProperties?: DSchema;
  enum?: string[];
  id?: string;
}

export function loadDiscovery(file: string): { shape(name: string): Shape } {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { schemas: Record<string, DSchema> };
  const cache = new Map<string, Shape>();
  const convert = (s: DSchema, name: string): Shape => {
    if (s.$ref) return named(s.$ref);
    switch (s.type) {
      case 'string':
        return { kind: 'string', ...(s.format === 'int64' || s.format === 'uint64' ? { format: 'int64' } : s.format === 'date-time' ? { format: 'date-time' } : {}), ...(s.enum ? { enum: s.enum } : {}) };
      case 'integer':
        return { kind: 'number', integer: true };
      case 'number':
        return { kind: 'number', integer: false };
      case 'boolean':
        return { kind: 'boolean' };
      case 'array':
        return { kind: 'array', items: () => convert(s.items ?? {}, `${name}[]`) };
      case 'object': {
        const properties = new Map<string, { shape: () => Shape; nullable: boolean }>();
        for (const [k, v] of Object.entries(s.properties ?? {})) properties.set(k, { shape: () => convert(v, `${name}.${k}`), nullable: false });
        return { kind: 'object', name, properties, required: new Set(), ...(s.additionalProperties ? { additional: () => convert(s.additionalProperties!, `${name}{}`) } : {}) };
      }
      case 'any':
      default:
        return { kind: 'any' };
    }
  };
  const named = (name: string): Shape => {
    let s = cache.get(name);
    if (!s) {
      const schema = doc.schemas[name];
      if (!schema) throw new Error(`schema ${name} not in discovery document`);
      s = convert(schema, name);
      cache.set(name, s);
    }
    return s;
  };
  return { shape: named };
}

/** Discovery documents have no `required`; the tests name the fields each resource must carry. */
export function requireFields(shape: Shape, fields: string[]): Shape {
  if (shape.kind !== 'object') throw new Error('requireFields needs an object shape');
  return { ...shape, required: new Set(fields) };
}

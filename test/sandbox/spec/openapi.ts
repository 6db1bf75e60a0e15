// OpenAPI 3 component schemas (the Webex spec) → validator shapes.
import { readFileSync } from 'node:fs';
import type { Shape } from './shapes.ts';

interface OSchema {
  type?: string;
  format?: string;
  $ref?: string;
  properties?: Record<string, OSchema>;
  items?: OSchema;
  additionalProperties?: OSchema | boolean;
  enum?: string[];
  required?: string[];
  allOf?: OSchema[];
  nullable?: boolean;
}

export function loadOpenApi(file: string): { shape(name: string): Shape } {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { components: { schemas: Record<string, OSchema> } };
  const cache = new Map<string, Shape>();
  const convert = (s: OSchema, name: string): Shape => {
    if (s.$ref) return named(s.$ref.replace('#/components/schemas/', ''));
    if (s.allOf) {
      const parts = s.allOf.map((p, i) => convert(p, `${name}#${i}`));
      const properties = new Map<string, { shape: () => Shape; nullable: boolean }>();
      const required = new Set<string>();
      for (const p of parts) if (p.kind === 'object') {
        for (const [k, v] of p.properties) properties.set(k, v);
        for (const r of p.required) required.add(r);
      }
      return { kind: 'object', name, properties, required };
    }
    switch (s.type) {
      case 'string':
        return { kind: 'string', ...(s.format === 'date-time' ? { format: 'date-time' } : {}), ...(s.enum ? { enum: s.enum } : {}) };
      case 'integer':
        return { kind: 'number', integer: true };
      case 'number':
        return { kind: 'number', integer: false };
      case 'boolean':
        return { kind: 'boolean' };
      case 'array':
        return { kind: 'array', items: () => convert(s.items ?? {}, `${name}[]`) };
      case 'object':
      case undefined: {
        if (!s.properties && !s.type) return { kind: 'any' };
        const properties = new Map<string, { shape: () => Shape; nullable: boolean }>();
        for (const [k, v] of Object.entries(s.properties ?? {})) properties.set(k, { shape: () => convert(v, `${name}.${k}`), nullable: v.nullable === true });
        const additional = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
        return { kind: 'object', name, properties, required: new Set(s.required ?? []), ...(additional ? { additional: () => convert(additional, `${name}{}`) } : {}) };
      }
      default:
        return { kind: 'any' };
    }
  };
  const named = (name: string): Shape => {
    let s = cache.get(name);
    if (!s) {
      const schema = doc.components.schemas[name];
      if (!schema) throw new Error(`schema ${name} not in OpenAPI document`);
      s = convert(schema, name);
      cache.set(name, s);
    }
    return s;
  };
  return { shape: named };
}

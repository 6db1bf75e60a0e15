// Graph v1.0 CSDL (msgraph-metadata clean_v10 cleanMetadata.xml) → validator shapes.
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import type { Shape } from './shapes.ts';

const FILE = '/work/shared/specs/msgraph-metadata_clean_v10_cleanMetadata.xml';

interface XmlProp {
  '@_Name': string;
  '@_Type': string;
  '@_Nullable'?: string;
}
interface XmlType {
  '@_Name': string;
  '@_BaseType'?: string;
  Property?: XmlProp[];
  NavigationProperty?: XmlProp[];
}

export interface Csdl {
  shape(typeName: string): Shape;
  has(typeName: string): boolean;
}

let cached: Csdl | undefined;

/**
 * Dynamic properties of open types that the real service is documented to send and the CSDL does
 * not declare. Everything else stays strict, even on open types like driveItem, so a renamed field
 * is still caught. OneDrive for Business identities carry `email`.
 */
const OPEN_TYPE_EXTRAS: Record<string, Record<string, string>> = {
  identity: { email: 'Edm.String' },
  // SharePoint document libraries are owned by the site's group: drive.owner = {group: {...}}.
  identitySet: { group: 'graph.identity' },
};

export function loadGraphCsdl(file = FILE): Csdl {
  if (cached && file === FILE) return cached;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ['Schema', 'EntityType', 'ComplexType', 'EnumType', 'Property', 'NavigationProperty', 'Member'].includes(name) });
  const doc = parser.parse(readFileSync(file, 'utf8'));
  const schema = (doc['edmx:Edmx']['edmx:DataServices'].Schema as Record<string, unknown>[]).find((s) => s['@_Namespace'] === 'microsoft.graph')!;
  const types = new Map<string, XmlType>();
  for (const t of [...((schema.EntityType as XmlType[]) ?? []), ...((schema.ComplexType as XmlType[]) ?? [])]) types.set(t['@_Name'], t);
  const enums = new Map<string, string[]>();
  for (const e of (schema.EnumType as { '@_Name': string; Member: { '@_Name': string }[] }[]) ?? []) enums.set(e['@_Name'], (e.Member ?? []).map((m) => m['@_Name']));
  const shapes = new Map<string, Shape>();

  const strip = (n: string) => n.replace(/^(graph|microsoft\.graph)\./, '');
  const typeShape = (typeRef: string): Shape => {
    const coll = /^Collection\((.+)\)$/.exec(typeRef);
    if (coll) return { kind: 'array', items: () => typeShape(coll[1]!) };
    switch (typeRef) {
      case 'Edm.String':
      case 'Edm.Binary':
      case 'Edm.Duration':
      case 'Edm.Date':
      case 'Edm.TimeOfDay':
        return { kind: 'string' };
      case 'Edm.Guid':
        return { kind: 'string', format: 'uuid' };
      case 'Edm.DateTimeOffset':
        return { kind: 'string', format: 'date-time' };
      case 'Edm.Boolean':
        return { kind: 'boolean' };
      case 'Edm.Int16':
      case 'Edm.Int32':
      case 'Edm.Int64':
      case 'Edm.Byte':
        return { kind: 'number', integer: true };
      case 'Edm.Double':
      case 'Edm.Single':
      case 'Edm.Decimal':
        return { kind: 'number', integer: false };
      case 'Edm.Stream':
        return { kind: 'object', name: 'Edm.Stream (never inline in JSON)', properties: new Map(), required: new Set(['never']) };
    }
    const name = strip(typeRef);
    const en = enums.get(name);
    if (en) return { kind: 'string', enum: en };
    return shapeOf(name);
  };
  const shapeOf = (name: string): Shape => {
    const existing = shapes.get(name);
    if (existing) return existing;
    const chain: XmlType[] = [];
    for (let t = types.get(name); t; t = t['@_BaseType'] ? types.get(strip(t['@_BaseType'])) : undefined) chain.push(t);
    if (chain.length === 0) throw new Error(`type ${name} not in CSDL`);
    const properties = new Map<string, { shape: () => Shape; nullable: boolean }>();
    const required = new Set<string>();
    for (const t of chain) {
      for (const p of t.Property ?? []) {
        const nullable = p['@_Nullable'] !== 'false';
        properties.set(p['@_Name'], { shape: () => typeShape(p['@_Type']), nullable });
        if (!nullable) required.add(p['@_Name']);
      }
      for (const [extra, type] of Object.entries(OPEN_TYPE_EXTRAS[t['@_Name']] ?? {})) properties.set(extra, { shape: () => typeShape(type), nullable: true });
      // Navigation properties appear inline only when expanded ($expand=thumbnails).
      for (const p of t.NavigationProperty ?? []) properties.set(p['@_Name'], { shape: () => typeShape(p['@_Type']), nullable: true });
    }
    const s: Shape = { kind: 'object', name, properties, required };
    shapes.set(name, s);
    return s;
  };
  const csdl: Csdl = { shape: (n) => shapeOf(n), has: (n) => types.has(n) };
  if (file === FILE) cached = csdl;
  return csdl;
}

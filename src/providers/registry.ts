import google from './google/provider.json' with { type: 'json' };
import microsoft from './microsoft/provider.json' with { type: 'json' };
import webex from './webex/provider.json' with { type: 'json' };
import { providerDefinitionSchema, type ProviderDefinition, type ProviderId } from './definition.ts';

/** The explicit list of providers. Each definition is validated when this module loads (at startup). */
function load(raw: unknown[]): ReadonlyMap<ProviderId, ProviderDefinition> {
  const map = new Map<ProviderId, ProviderDefinition>();
  for (const entry of raw) {
    const parsed = providerDefinitionSchema.safeParse(entry);
    if (!parsed.success) {
      const id = (entry as { id?: string }).id ?? '(unknown)';
      const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
      throw new Error(`Provider definition ${id} is invalid:\n${problems}`);
    }
    map.set(parsed.data.id, parsed.data);
  }
  return map;
}

export const providers = load([microsoft, google, webex]);
export const providerIds = [...providers.keys()] as [ProviderId, ...ProviderId[]];

export function providerDefinition(id: ProviderId): ProviderDefinition {
  return providers.get(id)!;
}

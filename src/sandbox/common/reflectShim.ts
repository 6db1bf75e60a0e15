// @peculiar/x509 pulls in tsyringe, which refuses to load without a Reflect metadata polyfill
// (normally the `reflect-metadata` package, which is not installed). tsyringe only needs
// get/getOwn/define for constructor parameter metadata, which x509 never relies on for injection,
// so a minimal WeakMap-backed implementation is enough. Installed only when absent.
type MetaStore = WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>;
const store: MetaStore = new WeakMap();
const R = Reflect as unknown as Record<string, unknown>;

function table(target: object, key: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byKey = store.get(target);
  if (!byKey) {
    if (!create) return undefined;
    byKey = new Map();
    store.set(target, byKey);
  }
  let t = byKey.get(key);
  if (!t && create) {
    t = new Map();
    byKey.set(key, t);
  }
  return t;
}

if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (metaKey: unknown, value: unknown, target: object, key?: string | symbol) => {
    table(target, key, true)!.set(metaKey, value);
  };
  R.getOwnMetadata = (metaKey: unknown, target: object, key?: string | symbol) => table(target, key, false)?.get(metaKey);
  R.getMetadata = (metaKey: unknown, target: object, key?: string | symbol) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const v = table(t, key, false)?.get(metaKey);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
export {};

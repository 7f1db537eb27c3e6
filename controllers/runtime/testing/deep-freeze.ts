// A test helper shared by the controller test tables: inputs are deep-frozen so that any code path that mutates a
// cached object (which the informer caches forbid) throws in strict mode instead of silently corrupting the cache.

/** Freezes `value` and everything reachable from it, in place, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

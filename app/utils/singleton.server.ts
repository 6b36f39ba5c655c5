// The process's long-lived objects (the database connection, the engine pool, the job runner, the
// generation worker), each made once on first use. They live on globalThis, not in module scope, so a
// dev rebuild that evaluates the modules again reuses them instead of opening a second handle.

declare global {
  var __promptduelSingletons: Map<string, unknown> | undefined;
}

function store(): Map<string, unknown> {
  return (globalThis.__promptduelSingletons ??= new Map());
}

/** The object named `name`, made by `create` on first use. */
export function singleton<T>(name: string, create: () => T): T {
  const objects = store();
  if (!objects.has(name)) objects.set(name, create());
  return objects.get(name) as T;
}

/** The object named `name` if it was made, without making it. */
export function existingSingleton<T>(name: string): T | undefined {
  return store().get(name) as T | undefined;
}

/** Forgets the object named `name` and returns it (to close it): the next use makes a new one. */
export function releaseSingleton<T>(name: string): T | undefined {
  const objects = store();
  const current = objects.get(name) as T | undefined;
  objects.delete(name);
  return current;
}

/** Keeps `value` as the object named `name` (one made elsewhere, e.g. after a condition). */
export function setSingleton<T>(name: string, value: T): T {
  store().set(name, value);
  return value;
}

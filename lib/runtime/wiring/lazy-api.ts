/**
 * An API every member of which is an async function, or such an API itself: what `lazyApi` can stand in
 * for without loading it (a synchronous member could not wait for the load).
 */
export type AsyncApi<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer _A) => Promise<infer _R>
    ? T[K]
    : T[K] extends (...args: infer _A) => unknown
      ? never
      : AsyncApi<T[K]>;
};

/**
 * Stands in for an API built on its first call: each member forwards to the loaded API, members named in
 * `nested` are stand-ins themselves. A function serves few of the run plane's use cases, and evaluating
 * the modules of all of them (their zod contracts above all) is most of its cold start (ADR 0012); with
 * the modules imported dynamically, the bundler defers each one's evaluation to its first use.
 */
export function lazyApi<T extends AsyncApi<T>>(load: () => Promise<T>, nested: readonly (keyof T)[] = []): T {
  return new Proxy(Object.create(null), {
    get: (_target, name) => {
      // Not a thenable: `await plane.cells` must not call a member named `then`.
      if (typeof name !== 'string' || name === 'then') return undefined;
      if (nested.includes(name as keyof T)) {
        return lazyApi(async () => Reflect.get(await load(), name) as AsyncApi<unknown>);
      }
      return async (...args: unknown[]) => {
        const api = await load();
        const member: unknown = Reflect.get(api, name);
        if (typeof member !== 'function') throw new Error(`the API has no method ${name}`);
        return Reflect.apply(member, api, args);
      };
    },
  });
}

/** A loader that runs once; its promise is shared (a failed load is retried on the next call). */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

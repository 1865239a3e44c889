import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on the first call instead of at import. `core`
 * and `config` are imported by every command; `edge-agent status` must answer
 * in 100 ms with Node's own start-up taking most of it (#12), so the packages
 * only some callers use (pino, cron) are not loaded by the others.
 */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(name) as T;
    return loaded;
  };
}

import { fileURLToPath } from 'node:url';

/**
 * The console's one page, its script and style (plain files, copied beside the compiled
 * code by the build), served by @fastify/static. Public: they hold no data, the API
 * behind them needs a session.
 */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

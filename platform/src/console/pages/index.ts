import type { Route } from '../http/index.js';
import { APP_JS } from './app.js';
import { SHELL, STYLE } from './shell.js';

/** The page and its two assets, public (they hold no data: the API behind them needs a session). */
export function pageRoutes(): Route[] {
  const asset = (path: string, text: string, type: string): Route => ({
    method: 'GET',
    path,
    role: null,
    handler: async () => ({ text, type }),
  });
  return [
    asset('/', SHELL, 'text/html; charset=utf-8'),
    asset('/assets/app.js', APP_JS, 'text/javascript; charset=utf-8'),
    asset('/assets/style.css', STYLE, 'text/css; charset=utf-8'),
  ];
}

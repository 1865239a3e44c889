export { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';
export { badRequest, HttpError, notFound } from './errors.js';
export { type HttpOptions, HttpServer, SECURITY_HEADERS } from './server.js';
export type { ApiRequest, Method, Reply, Route } from './types.js';
export { idParam, validate } from './validate.js';

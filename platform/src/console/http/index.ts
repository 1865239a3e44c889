export { badRequest, HttpError, notFound, toHttpError } from './errors.js';
export { type App, buildHttp, type HttpOptions, HttpServer, SECURITY_HEADERS } from './server.js';
export { SESSION_COOKIE, sessionCookieOptions } from './types.js';
export { DEVICE_ID, DEVICE_PARAMS, ID_PARAMS, intQuery, queryInt, schemaError } from './validation.js';

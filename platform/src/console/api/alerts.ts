import { ALERT_STATES } from '../alerts/index.js';
import { type ApiRequest, badRequest, idParam, type Route, validate } from '../http/index.js';
import { queryInt } from './auth.js';
import type { ApiContext } from './context.js';

const NOTE = { type: 'string', min: 1, max: 2000, optional: true } as const;
const ASSIGNEE = { type: 'string', min: 1, max: 63, optional: true } as const;
const who = (req: ApiRequest): string => (req.session as NonNullable<ApiRequest['session']>).username;

/** The alert queue: viewers read it, operators acknowledge, assign, annotate and resolve. */
export function alertRoutes(ctx: ApiContext): Route[] {
  const act = (verb: 'acknowledge' | 'resolve' | 'annotate'): Route => ({
    method: 'POST',
    path: `/api/v1/alerts/:id/${verb}`,
    role: 'operator',
    handler: async (req) => {
      const id = idParam('id', req.params.id);
      const body = validate(
        req.body ?? {},
        verb === 'resolve' ? { note: NOTE } : { assignee: ASSIGNEE, note: NOTE },
      );
      const alert = await ctx.db.transaction(async (tx) => {
        const a =
          verb === 'acknowledge'
            ? await ctx.alerts.acknowledge(id, who(req), body, tx)
            : verb === 'resolve'
              ? await ctx.alerts.resolve(id, who(req), body, tx)
              : await ctx.alerts.annotate(id, body, tx);
        await ctx.audit.record(
          { username: who(req), action: `alert.${verb}`, target: `alert:${id}`, detail: body, ip: req.ip },
          tx,
        );
        return a;
      });
      return { json: { alert } };
    },
  });
  return [
    {
      method: 'GET',
      path: '/api/v1/alerts',
      role: 'viewer',
      handler: async (req) => {
        const state = req.query.get('state');
        if (state !== null && !(ALERT_STATES as readonly string[]).includes(state))
          throw badRequest('state', `must be one of ${ALERT_STATES.join(', ')}`);
        const device = req.query.get('device') ?? undefined;
        const alerts = await ctx.alerts.list({
          ...(state ? { state: state as (typeof ALERT_STATES)[number] } : {}),
          ...(device ? { deviceId: device } : {}),
          limit: queryInt(req, 'limit', 500, 1, 5000),
        });
        return { json: { alerts } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/alerts/:id',
      role: 'viewer',
      handler: async (req) => ({ json: { alert: await ctx.alerts.get(idParam('id', req.params.id)) } }),
    },
    act('acknowledge'),
    act('resolve'),
    act('annotate'),
  ];
}

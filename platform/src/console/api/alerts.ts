import { ALERT_STATES } from '../alerts/index.js';
import { type App, ID_PARAMS, intQuery, queryInt } from '../http/index.js';
import { type ApiContext, who } from './context.js';

const NOTE = { type: 'string', minLength: 1, maxLength: 2000 } as const;
const ASSIGNEE = { type: 'string', minLength: 1, maxLength: 63 } as const;
const body = (props: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  properties: props,
});
const LIST = {
  type: 'object',
  properties: {
    ...intQuery('limit').properties,
    state: { type: 'string', enum: ALERT_STATES },
    device: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

interface ActBody {
  note?: string;
  assignee?: string;
}
type Params = { id: string };

/** The alert queue: viewers read it, operators acknowledge, assign, annotate and resolve. */
export function alertRoutes(app: App, ctx: ApiContext): void {
  for (const verb of ['acknowledge', 'resolve', 'annotate'] as const) {
    app.post<{ Params: Params; Body: ActBody }>(
      `/api/v1/alerts/:id/${verb}`,
      {
        config: { role: 'operator' },
        schema: {
          params: ID_PARAMS,
          body: verb === 'resolve' ? body({ note: NOTE }) : body({ assignee: ASSIGNEE, note: NOTE }),
        },
      },
      async (req) => {
        const id = Number(req.params.id);
        const b = req.body ?? {};
        const alert = await ctx.db.transaction(async (tx) => {
          const a =
            verb === 'acknowledge'
              ? await ctx.alerts.acknowledge(id, who(req), b, tx)
              : verb === 'resolve'
                ? await ctx.alerts.resolve(id, who(req), b, tx)
                : await ctx.alerts.annotate(id, b, tx);
          await ctx.audit.record(
            {
              username: who(req),
              action: `alert.${verb}`,
              target: `alert:${id}`,
              detail: { ...b },
              ip: req.ip,
            },
            tx,
          );
          return a;
        });
        return { alert };
      },
    );
  }

  app.get<{ Querystring: { state?: (typeof ALERT_STATES)[number]; device?: string; limit?: string } }>(
    '/api/v1/alerts',
    { config: { role: 'viewer' }, schema: { querystring: LIST } },
    async (req) => {
      const { state, device } = req.query;
      const alerts = await ctx.alerts.list({
        ...(state ? { state } : {}),
        ...(device ? { deviceId: device } : {}),
        limit: queryInt(req.query.limit, 'limit', 500, 1, 5000),
      });
      return { alerts };
    },
  );

  app.get<{ Params: Params }>(
    '/api/v1/alerts/:id',
    { config: { role: 'viewer' }, schema: { params: ID_PARAMS } },
    async (req) => ({ alert: await ctx.alerts.get(Number(req.params.id)) }),
  );
}

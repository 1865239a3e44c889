import { SEVERITIES } from '../alerts/index.js';
import { type ApiRequest, idParam, type Route, validate } from '../http/index.js';
import { mispEvent, REPORT_STAGES, RSIT, stixBundle } from '../incidents/index.js';
import type { ApiContext } from './context.js';

const NEW = {
  title: { type: 'string', min: 1, max: 200 },
  summary: { type: 'string', max: 5000, optional: true },
  severity: { type: 'string', oneOf: SEVERITIES },
  rsitClass: { type: 'string', oneOf: Object.keys(RSIT) },
  rsitType: { type: 'string', min: 1, max: 64 },
  awareAt: { type: 'timestamp', optional: true },
  alertIds: { type: 'integers', min: 1, maxItems: 1000 },
} as const;
const who = (req: ApiRequest): string => (req.session as NonNullable<ApiRequest['session']>).username;

/** Incidents: operators open them over alerts and record NIS2 reports; anyone logged in exports them. */
export function incidentRoutes(ctx: ApiContext): Route[] {
  const detail = (req: ApiRequest) => ctx.incidents.get(idParam('id', req.params.id));
  return [
    {
      method: 'GET',
      path: '/api/v1/incidents',
      role: 'viewer',
      handler: async () => ({ json: { incidents: await ctx.incidents.list(), rsit: RSIT } }),
    },
    {
      method: 'POST',
      path: '/api/v1/incidents',
      role: 'operator',
      handler: async (req) => {
        const b = validate(req.body, NEW);
        const incident = await ctx.incidents.create(
          {
            title: b.title,
            severity: b.severity as (typeof SEVERITIES)[number],
            rsitClass: b.rsitClass,
            rsitType: b.rsitType,
            alertIds: b.alertIds,
            ...(b.summary !== undefined ? { summary: b.summary } : {}),
            ...(b.awareAt !== undefined ? { awareAtMs: b.awareAt } : {}),
          },
          who(req),
          req.ip,
        );
        return { status: 201, json: { incident } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/incidents/:id',
      role: 'viewer',
      handler: async (req) => ({ json: { incident: await detail(req) } }),
    },
    {
      method: 'POST',
      path: '/api/v1/incidents/:id/reports',
      role: 'operator',
      handler: async (req) => {
        const { stage } = validate(req.body, { stage: { type: 'string', oneOf: REPORT_STAGES } });
        const incident = await ctx.incidents.submitted(
          idParam('id', req.params.id),
          stage as (typeof REPORT_STAGES)[number],
          who(req),
          req.ip,
        );
        return { json: { incident } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/incidents/:id/stix',
      role: 'viewer',
      handler: async (req) => {
        const inc = await detail(req);
        await ctx.audit.record({
          username: who(req),
          action: 'incident.export.stix',
          target: `incident:${inc.id}`,
          ip: req.ip,
        });
        return { json: stixBundle(inc, ctx.clock()) };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/incidents/:id/misp',
      role: 'viewer',
      handler: async (req) => {
        const inc = await detail(req);
        await ctx.audit.record({
          username: who(req),
          action: 'incident.export.misp',
          target: `incident:${inc.id}`,
          ip: req.ip,
        });
        return { json: mispEvent(inc, ctx.clock()) };
      },
    },
  ];
}

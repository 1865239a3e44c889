import type { FastifyRequest } from 'fastify';
import { SEVERITIES } from '../alerts/index.js';
import { type App, ID_PARAMS } from '../http/index.js';
import { mispEvent, REPORT_STAGES, RSIT, stixBundle } from '../incidents/index.js';
import { type ApiContext, who } from './context.js';

interface NewIncident {
  title: string;
  summary?: string;
  severity: (typeof SEVERITIES)[number];
  rsitClass: string;
  rsitType: string;
  awareAt?: string;
  alertIds: number[];
}
const NEW = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'severity', 'rsitClass', 'rsitType', 'alertIds'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    summary: { type: 'string', maxLength: 5000 },
    severity: { type: 'string', enum: SEVERITIES },
    rsitClass: { type: 'string', enum: Object.keys(RSIT) },
    rsitType: { type: 'string', minLength: 1, maxLength: 64 },
    awareAt: { type: 'string', format: 'date-time' },
    alertIds: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    },
  },
} as const;
const STAGE = {
  type: 'object',
  additionalProperties: false,
  required: ['stage'],
  properties: { stage: { type: 'string', enum: REPORT_STAGES } },
} as const;
type ById = FastifyRequest<{ Params: { id: string } }>;
const BY_ID = { config: { role: 'viewer' as const }, schema: { params: ID_PARAMS } };

/** Incidents: operators open them over alerts and record NIS2 reports; anyone logged in exports them. */
export function incidentRoutes(app: App, ctx: ApiContext): void {
  const detail = (req: ById) => ctx.incidents.get(Number(req.params.id));
  const exported = async (req: ById, kind: 'stix' | 'misp') => {
    const inc = await detail(req);
    await ctx.audit.record({
      username: who(req),
      action: `incident.export.${kind}`,
      target: `incident:${inc.id}`,
      ip: req.ip,
    });
    return inc;
  };

  app.get('/api/v1/incidents', { config: { role: 'viewer' } }, async () => ({
    incidents: await ctx.incidents.list(),
    rsit: RSIT,
  }));

  app.post<{ Body: NewIncident }>(
    '/api/v1/incidents',
    { config: { role: 'operator' }, schema: { body: NEW } },
    async (req, reply) => {
      const b = req.body;
      const incident = await ctx.incidents.create(
        {
          title: b.title,
          severity: b.severity,
          rsitClass: b.rsitClass,
          rsitType: b.rsitType,
          alertIds: b.alertIds,
          ...(b.summary !== undefined ? { summary: b.summary } : {}),
          ...(b.awareAt !== undefined ? { awareAtMs: Date.parse(b.awareAt) } : {}),
        },
        who(req),
        req.ip,
      );
      return reply.code(201).send({ incident });
    },
  );

  app.get('/api/v1/incidents/:id', BY_ID, async (req: ById) => ({ incident: await detail(req) }));

  app.post<{ Params: { id: string }; Body: { stage: (typeof REPORT_STAGES)[number] } }>(
    '/api/v1/incidents/:id/reports',
    { config: { role: 'operator' }, schema: { params: ID_PARAMS, body: STAGE } },
    async (req) => ({
      incident: await ctx.incidents.submitted(Number(req.params.id), req.body.stage, who(req), req.ip),
    }),
  );

  app.get('/api/v1/incidents/:id/stix', BY_ID, async (req: ById) =>
    stixBundle(await exported(req, 'stix'), ctx.clock()),
  );
  app.get('/api/v1/incidents/:id/misp', BY_ID, async (req: ById) =>
    mispEvent(await exported(req, 'misp'), ctx.clock()),
  );
}

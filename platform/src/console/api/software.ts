import { type App, DEVICE_PARAMS, HttpError, intQuery, notFound, queryInt } from '../http/index.js';
import {
  FINDING_SEVERITIES,
  type FindingSeverity,
  SbomReportError,
  sbomDocument,
  softwareOf,
} from '../software/index.js';
import { type ApiContext, who } from './context.js';

const FINDINGS = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...intQuery('limit').properties,
    severity: { type: 'string', enum: FINDING_SEVERITIES },
    kev: { type: 'string', enum: ['true', 'false'] },
  },
} as const;
type Params = { id: string };
interface FindingsQuery {
  severity?: FindingSeverity;
  kev?: 'true' | 'false';
  limit?: string;
}

/** A gateway's own software (#17): its SBOM summary and vulnerable packages, and the SBOM itself. */
export function softwareRoutes(app: App, ctx: ApiContext): void {
  app.get<{ Params: Params; Querystring: FindingsQuery }>(
    '/api/v1/gateways/:id/software',
    { config: { role: 'viewer' }, schema: { params: DEVICE_PARAMS, querystring: FINDINGS } },
    async (req) => {
      const sw = await softwareOf(ctx.db, req.params.id);
      if (!sw) throw notFound(`SBOM report of gateway ${req.params.id}`);
      const { severity, kev } = req.query;
      const limit = queryInt(req.query.limit, 'limit', 1000, 1, 10_000);
      const findings = sw.findings.filter(
        (f) => (!severity || f.severity === severity) && (!kev || String(f.kev) === kev),
      );
      return { sbom: sw.sbom, total: findings.length, findings: findings.slice(0, limit) };
    },
  );

  app.get<{ Params: Params }>(
    '/api/v1/gateways/:id/sbom',
    { config: { role: 'viewer' }, schema: { params: DEVICE_PARAMS } },
    async (req, reply) => {
      const id = req.params.id;
      const json = await sbomDocument(ctx.db, id).catch((e: unknown) => {
        // The gateway's bytes, not the console: said with the reason, as the page shows it.
        if (e instanceof SbomReportError)
          throw new HttpError(422, e.code, `SBOM report of gateway ${id} cannot be read: ${e.message}`);
        throw e;
      });
      if (json === null) throw notFound(`SBOM report of gateway ${id}`);
      await ctx.audit.record({
        username: who(req),
        action: 'software.export.sbom',
        target: `gateway:${id}`,
        ip: req.ip,
      });
      return reply
        .type('application/vnd.cyclonedx+json')
        .header('content-disposition', `attachment; filename="${id}-sbom.cdx.json"`)
        .send(json);
    },
  );
}

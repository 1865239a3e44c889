import {
  complianceHistory,
  complianceMatrix,
  loadAssessments,
  oscalAssessmentResults,
} from '../compliance/index.js';
import { type App, intQuery, queryInt } from '../http/index.js';
import { type ApiContext, who } from './context.js';

const DEVICE = {
  type: 'object',
  properties: { device: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** The compliance matrix (provisions × gateways) and its OSCAL export for tools and auditors. */
export function complianceRoutes(app: App, ctx: ApiContext): void {
  app.get('/api/v1/compliance', { config: { role: 'viewer' } }, async () => {
    const assessments = await loadAssessments(ctx.db);
    return {
      gateways: assessments.map((a) => ({
        deviceId: a.deviceId,
        reportedAt: a.reportedAt,
        source: a.source,
      })),
      provisions: complianceMatrix(assessments),
    };
  });

  app.get<{ Querystring: { device?: string } }>(
    '/api/v1/compliance/oscal',
    { config: { role: 'viewer' }, schema: { querystring: DEVICE } },
    async (req) => {
      const device = req.query.device;
      const assessments = await loadAssessments(ctx.db, device);
      await ctx.audit.record({
        username: who(req),
        action: 'compliance.export.oscal',
        target: device ? `gateway:${device}` : 'fleet',
        ip: req.ip,
      });
      return oscalAssessmentResults(assessments, {
        now: ctx.clock(),
        title: device ? `Security posture of gateway ${device}` : 'Security posture of the fleet',
      });
    },
  );

  app.get<{ Querystring: { device?: string; days?: string } }>(
    '/api/v1/compliance/history',
    {
      config: { role: 'viewer' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...DEVICE.properties, ...intQuery('days').properties },
        },
      },
    },
    async (req) =>
      complianceHistory(ctx.db, {
        days: queryInt(req.query.days, 'days', 30, 1, 366),
        ...(req.query.device ? { deviceId: req.query.device } : {}),
      }),
  );
}

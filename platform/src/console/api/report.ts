import {
  auditorReportHtml,
  complianceMatrix,
  loadAssessments,
  postureSection,
  type ReportSection,
} from '../compliance/index.js';
import { sensorInventory } from '../gateway/index.js';
import { type App, DEVICE_ID, notFound } from '../http/index.js';
import { softwareOf } from '../software/index.js';
import type { Queryable } from '../types.js';
import { type ApiContext, who } from './context.js';

const DEVICE = {
  type: 'object',
  additionalProperties: false,
  properties: { device: DEVICE_ID },
} as const;

/** The software and sensor findings of one gateway, each section citing its own signed report. */
async function evidenceSections(db: Queryable, deviceId: string): Promise<ReportSection[]> {
  const out: ReportSection[] = [];
  const sw = await softwareOf(db, deviceId);
  if (sw)
    out.push({
      deviceId,
      heading: `Software (SBOM, ${sw.sbom.components} components)`,
      reportedAt: sw.sbom.reportedAt,
      source: sw.sbom.source,
      findings: sw.findings.map((f) => ({
        subject: `${f.package} ${f.version}`,
        status: 'vulnerable',
        detail:
          `${f.cve} ${f.severity}${f.cvss !== null ? ` (CVSS ${f.cvss})` : ''}` +
          `${f.kev ? ', known exploited' : ''}; ${f.fixed ? `fixed in ${f.fixed}` : 'no fix yet'}`,
      })),
    });
  const inv = await sensorInventory(db, deviceId);
  if (inv)
    out.push({
      deviceId,
      heading: 'Sensors (inventory, firmware verdicts)',
      reportedAt: inv.reportedAt,
      source: inv.source,
      findings: inv.sensors.map((s) => ({
        subject: `${s.location} ${s.model ?? ''}`.trim(),
        status: s.verdict,
        detail: [
          `firmware ${s.firmware ?? 'unknown'}`,
          ...s.cves.map((c) => `${c.id} (${c.severity})`),
          s.note ?? '',
        ]
          .filter(Boolean)
          .join('; '),
      })),
    });
  return out;
}

/** The printable HTML compliance report for an auditor, per gateway or fleet-wide. */
export function reportRoutes(app: App, ctx: ApiContext): void {
  app.get<{ Querystring: { device?: string } }>(
    '/api/v1/compliance/report.html',
    { config: { role: 'viewer' }, schema: { querystring: DEVICE } },
    async (req, reply) => {
      const device = req.query.device;
      const assessments = await loadAssessments(ctx.db, device);
      const ids = (
        await ctx.db.query<{ device_id: string }>(
          'SELECT device_id FROM devices WHERE $1::text IS NULL OR device_id = $1 ORDER BY device_id',
          [device ?? null],
        )
      ).map((r) => r.device_id);
      // An auditor given an empty report for a mistyped id would read it as "nothing found".
      if (device && ids.length === 0) throw notFound(`gateway ${device}`);
      const sections: ReportSection[] = assessments.map(postureSection);
      for (const id of ids) sections.push(...(await evidenceSections(ctx.db, id)));
      await ctx.audit.record({
        username: who(req),
        action: 'compliance.export.html',
        target: device ? `gateway:${device}` : 'fleet',
        ip: req.ip,
      });
      const html = auditorReportHtml({
        title: device ? `Compliance report: gateway ${device}` : 'Compliance report: the fleet',
        now: ctx.clock(),
        matrix: complianceMatrix(assessments),
        sections,
      });
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );
}

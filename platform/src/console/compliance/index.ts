export { type Check, checksOf } from './checks.js';
export { type ComplianceHistory, complianceHistory, type ProvisionHistory } from './history.js';
export { auditorReportHtml, type CitedFinding, esc, postureSection, type ReportSection } from './html.js';
export {
  type Assessment,
  type BatchRef,
  batchRef,
  byProvision,
  type CitedReport,
  complianceMatrix,
  latestCitedReports,
  loadAssessments,
  type ProvisionRow,
  STANDARDS,
  type Verdict,
  verdict,
} from './matrix.js';
export { OSCAL_NS, oscalAssessmentResults, targetId } from './oscal.js';

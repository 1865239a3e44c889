export { refreshSoftware, sbomDocument, softwareOf } from './digest.js';
export {
  GZIP_SBOM,
  MAX_SBOM_JSON_BYTES,
  packageCounts,
  parseSbom,
  SbomReportError,
  sbomJson,
} from './sbom.js';
export {
  FINDING_SEVERITIES,
  type FindingSeverity,
  type ParsedSbom,
  type SbomSummary,
  type SoftwareFinding,
} from './types.js';

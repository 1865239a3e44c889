export { IncidentBook } from './book.js';
export { mispEvent } from './misp.js';
export { addMonth, nis2Clocks } from './nis2.js';
export { stixBundle, uuidv5 } from './stix.js';
export {
  type Incident,
  type IncidentDetail,
  type NewIncident,
  type Nis2Clock,
  REPORT_STAGES,
  type ReportStage,
  RSIT,
} from './types.js';

export { AlertBook, type RaiseInput, toAlert } from './book.js';
export { AlertSweep } from './sweep.js';
export {
  ALERT_STATES,
  ALERT_TYPES,
  type Alert,
  type AlertFilter,
  type AlertSeverity,
  type AlertState,
  type AlertType,
  DEFAULT_SWEEP,
  SEVERITIES,
  type SweepPolicy,
} from './types.js';

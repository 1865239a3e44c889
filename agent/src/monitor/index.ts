export { AuthMonitor, type AuthOutcome, parseAuthMessage, parseJournalLine } from './auth.js';
export { ClockMonitor, MAX_UNAUTHENTICATED_FLOOR_STEP_MS } from './clock.js';
export { DoorMonitor } from './door.js';
export { HEALTH_SENSOR, type HealthOptions, HealthSampler } from './health.js';
export { BufferPressure, CRASH_LOOP_STARTS, recordCleanStop, recordStart } from './lifecycle.js';
export { type Listener, ListenerMonitor, readListeners } from './listeners.js';
export { FileTail, JournalSource } from './logsource.js';
export { clean, EventReporter, MAX_HELD_EVENTS } from './reporter.js';
export { BUILD_FLOOR_MS, clockQuality } from './time.js';

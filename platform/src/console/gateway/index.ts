export { sensorInventory, sensorsOf } from './inventory.js';
export { type TelemetryWindow, telemetry } from './telemetry.js';
export type { SensorInventory, SensorVerdict, Series, Telemetry } from './types.js';

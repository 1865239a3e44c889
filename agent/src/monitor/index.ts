export { HEALTH_SENSOR, type HealthOptions, HealthSampler } from './health.js';
export { BUILD_FLOOR_MS, clockQuality } from './time.js';

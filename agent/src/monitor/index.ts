export { BUILD_FLOOR_MS, clockQuality } from './time.js';

export { CHANNEL, LiveHub } from './hub.js';

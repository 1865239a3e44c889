export { Supervisor } from './service.js';

export { UsageError } from './args.js';
export { configCommand } from './config.js';
export { identityCommand } from './identity.js';
export { ingestCommand } from './ingest.js';
export { type Io, println, processIo } from './io.js';
export { runCommand } from './run.js';
export { statusCommand } from './status.js';

// Durable file writes shared by the modules that keep state on the card (config,
// buffer and those above them): one implementation of "temp file, fsync, rename,
// fsync the folder", so the outbox's quarantine journal and every state file
// get the same crash behaviour.
export { fsyncDir, TEMP_SUFFIX, writeFileAtomic } from './atomic.js';

import { AgentError } from '../core/index.js';

/**
 * A bus folder (or the neighbour table) exists but cannot be read. Discovery
 * stops rather than report every sensor on that bus as unplugged and save an
 * inventory that forgets them.
 */
export class DiscoveryError extends AgentError {
  constructor(path: string, cause: unknown) {
    const why = (cause as { code?: string }).code ?? (cause as Error).message;
    super('DISCOVERY_FAILED', `cannot read ${path} (${why}): discovery stopped, the last inventory kept`, {
      cause,
    });
  }
}

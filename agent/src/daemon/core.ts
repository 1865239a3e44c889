import type { AgentConfig } from '../config/index.js';
import type { Clock, Logger, Random, Service } from '../core/index.js';
import { TrustStore } from '../trust/index.js';
import type { Bus } from './bus.js';

/** What every capability's wiring function is given: the config, the injected world, the bus. */
export interface DaemonCore {
  config: AgentConfig;
  clock: Clock;
  random: Random;
  log: Logger;
  bus: Bus;
  /** The one trust store in force (role keys and version floors), owned by the supervisor. */
  trust: () => TrustStore;
  /** Version of the remote config in force, for the status messages. */
  configVersion: number;
  /** When this agent was built (wall clock), for the status messages. */
  bootTime: number;
}

/**
 * What a wiring function returns: its critical services in start order, its
 * optional ones (isolated: their failure never stops telemetry), and what
 * others may use of it.
 */
export type Wired<T> = T & { services: Service[]; optional?: Service[] };

/** A service made of a start and a stop function (small periodic jobs). */
export const task = (name: string, start: () => void, stop: () => void): Service => ({
  name,
  start: async () => start(),
  stop: async () => stop(),
});

/** The supervisor's trust store, or (a bare agent) the data dir's, read once when first needed. */
export function trustOf(config: AgentConfig, given: TrustStore | undefined): () => TrustStore {
  let store = given;
  return () => {
    if (!store) {
      store = new TrustStore(config.storage.dir, config.trust.rootKey);
      store.load(true);
    }
    return store;
  };
}

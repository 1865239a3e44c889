import { isAbsolute, join, normalize, posix, relative, sep } from 'node:path';
import { AgentError } from '../core/index.js';

/** A path that would leave the root (`..`, an absolute escape) or is not a plain path. */
export class PathOutsideRootError extends AgentError {
  constructor(path: string, why: string) {
    super('PATH_OUTSIDE_ROOT', `${JSON.stringify(path.slice(0, 200))}: ${why}`);
  }
}

/**
 * Normalises a gateway path (as `/etc/passwd`) and maps it under `root`; refuses
 * NUL bytes, relative paths and anything that normalises outside the root.
 */
export function underRoot(root: string, gatewayPath: string): { gateway: string; host: string } {
  if (gatewayPath.includes('\0')) throw new PathOutsideRootError(gatewayPath, 'contains a NUL byte');
  if (!posix.isAbsolute(gatewayPath))
    throw new PathOutsideRootError(gatewayPath, 'must be absolute on the gateway (start with /)');
  const gateway = posix.normalize(gatewayPath);
  const host = normalize(join(root, gateway));
  const rel = relative(normalize(root), host);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
    throw new PathOutsideRootError(gatewayPath, 'leaves the root');
  return { gateway: gateway.length > 1 && gateway.endsWith('/') ? gateway.slice(0, -1) : gateway, host };
}

import type Semver from 'semver';
import { lazyPackage } from '../core/lazy.js';

/** semver, loaded when an npm version is first compared: `status` reads the software summary without it (#12). */
export const semver = lazyPackage<typeof Semver>('semver');

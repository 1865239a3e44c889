import type { Row } from '../lib.js';
import { r1 } from './r1-sigkill.js';
import { r2 } from './r2-powercut.js';
import { r3 } from './r3-outage.js';
import { r4 } from './r4-broker-kill.js';
import { r5 } from './r5-connects.js';
import { r6 } from './r6-disk-full.js';
import { r7 } from './r7-mutants.js';
import { r8 } from './r8-soak.js';
import { s1 } from './s1-fuzz.js';
import { s2 } from './s2-flips.js';
import { s3 } from './s3-ota.js';
import { s4 } from './s4-tls.js';
import { s5 } from './s5-ids.js';
import { s6 } from './s6-paths.js';
import { s7 } from './s7-terminal.js';
import { s8 } from './s8-clock.js';
import { s9 } from './s9-acks.js';
import { s10 } from './s10-deps.js';

/** Every row, in the order the table prints them. */
export const ROWS: Row[] = [s2, s3, s4, s5, s6, s7, s8, s9, s10, s1, r1, r2, r3, r4, r5, r6, r7, r8];

#!/usr/bin/env -S node --max-semi-space-size=1
// The small young generation makes V8 collect the drain loop's short-lived Buffer
// wrappers often, so their external memory goes back before it piles up: peak RSS
// while draining a million buffered readings drops from ~175 MB to ~120 MB
// (`npm run bench`). A systemd unit that calls node directly should pass the flag too.
import '../dist/agent/src/main.js';

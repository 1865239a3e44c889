import type { Writable } from 'node:stream';

/**
 * A reader that goes away (`edge-agent audit | head`) makes the next write fail with EPIPE,
 * which Node throws as an unhandled 'error' event with a stack trace. With a listener the
 * stream is destroyed quietly, later writes go nowhere, and the program finishes with its
 * own exit code. Programs that would otherwise run on (`logs -f`) watch for the 'close'.
 */
export function quietOnClose(w: Writable): void {
  if (w.listenerCount('error') === 0) w.on('error', () => undefined);
}

/** quietOnClose for the process's stdout and stderr: every command-line entry point calls it first. */
export function quietStdio(): void {
  quietOnClose(process.stdout);
  quietOnClose(process.stderr);
}

/**
 * Control characters (C0, DEL, C1: ANSI escapes, newlines, carriage returns)
 * and bidirectional overrides, which would move the cursor, inject a line or
 * reorder what a technician reads: shown as `\xNN` / `\u{NNNN}`. For human
 * output only; JSON keeps names exact.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** A name from disk (or any outside text) as it may be written to a terminal. */
export function shown(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.codePointAt(0) ?? 0;
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

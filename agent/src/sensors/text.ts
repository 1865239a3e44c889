/**
 * Descriptor strings come from hardware anyone can plug in: shown escaped
 * (control characters, ANSI sequences, invalid UTF-8) and capped, never raw.
 */
export function safeText(raw: Buffer | string, max = 64): string {
  const s = typeof raw === 'string' ? raw : raw.toString('utf8');
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    out +=
      c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)
        ? `\\x${c.toString(16).padStart(2, '0')}`
        : ch === '\ufffd'
          ? '\\ufffd'
          : ch;
    if (out.length > max) return `${out.slice(0, max)}…`;
  }
  return out;
}

/**
 * Descriptor strings come from hardware anyone can plug in: shown escaped
 * (control characters, ANSI sequences, invalid UTF-8, and the bidirectional and
 * line-separator characters that reorder or split what a terminal shows) and
 * capped, never raw.
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
          : isBidiOrSeparator(c)
            ? `\\u${c.toString(16).padStart(4, '0')}`
            : ch;
    if (out.length > max) return `${out.slice(0, max)}…`;
  }
  return out;
}

/** Bidi marks, embeddings, overrides and isolates (Trojan Source), and the Unicode line separators. */
const isBidiOrSeparator = (c: number): boolean =>
  c === 0x061c ||
  c === 0x200e ||
  c === 0x200f ||
  (c >= 0x2028 && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069);

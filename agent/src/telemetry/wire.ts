import { VerifyError } from './errors.js';

/** Default cap on one serialized message (DESIGN.md). */
export const DEFAULT_MAX_BYTES = 256 * 1024;
/** Deprecated protobuf groups are the only unbounded recursion the decoder could hit. */
export const DEFAULT_MAX_DEPTH = 8;

/**
 * Walks the protobuf wire format once, without decoding, to refuse oversize
 * input and nesting past the cap before the generated decoder recurses into it.
 */
export function checkWire(
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_BYTES,
  maxDepth = DEFAULT_MAX_DEPTH,
): void {
  if (bytes.length > maxBytes) {
    throw new VerifyError('TOO_LARGE', `message of ${bytes.length} bytes exceeds the cap of ${maxBytes}`);
  }
  let pos = 0;
  let depth = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw new VerifyError('BAD_ENCODING', 'truncated varint');
      const b = bytes[pos++];
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw new VerifyError('BAD_ENCODING', 'varint longer than 10 bytes');
  };
  const skip = (n: number): void => {
    if (n > bytes.length - pos) throw new VerifyError('BAD_ENCODING', 'field runs past the end');
    pos += n;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag >>> 3 === 0 && tag < 8) throw new VerifyError('BAD_ENCODING', 'field number 0');
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        skip(8);
        break;
      case 2:
        skip(varint());
        break;
      case 3:
        if (++depth > maxDepth) throw new VerifyError('TOO_DEEP', `nesting deeper than ${maxDepth}`);
        break;
      case 4:
        if (--depth < 0) throw new VerifyError('BAD_ENCODING', 'unbalanced end group');
        break;
      case 5:
        skip(4);
        break;
      default:
        throw new VerifyError('BAD_ENCODING', `invalid wire type ${tag & 7}`);
    }
  }
  if (depth !== 0) throw new VerifyError('BAD_ENCODING', 'unterminated group');
}

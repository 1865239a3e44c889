/**
 * Follows the MQTT framing of the bytes a broker sends (fixed header byte,
 * variable-length "remaining length", body) and reports the first packet
 * larger than the cap as soon as its header is seen, before mqtt.js's parser
 * has buffered it. The MQTT 5 `maximumPacketSize` asks the broker not to send
 * such packets; this holds for brokers that ignore it and for MQTT 3.1.1.
 */
export class FrameGuard {
  private state: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Feeds the next bytes; returns the size of a packet over the cap (or of a malformed header), else 0. */
  feed(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'header';
        continue;
      }
      if (this.state === 'header') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const b = chunk[i++];
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (b & 0x80) {
        // The remaining length has at most 4 bytes: a fifth one is no MQTT.
        if (this.lengthBytes >= 4) return Number.MAX_SAFE_INTEGER;
        continue;
      }
      const total = 1 + this.lengthBytes + this.length;
      if (total > this.maxPacketBytes) return total;
      this.remaining = this.length;
      this.state = this.length === 0 ? 'header' : 'body';
    }
    return 0;
  }
}

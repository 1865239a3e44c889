/**
 * Splits a byte stream into lines of at most `maxBytes`. A longer line is
 * reported once as `overflow` and skipped up to its newline, so one bad
 * producer cannot grow memory without bound.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflowing = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.overflowing) {
        this.parts.push(chunk.subarray(start, end));
        this.size += end - start;
        if (this.size > this.maxBytes) {
          this.overflowing = true;
          this.parts = [];
          this.size = 0;
        }
      }
      if (nl === -1) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.size > 0 || this.overflowing) this.finishLine();
  }

  private finishLine(): void {
    if (this.overflowing) {
      this.overflowing = false;
      this.onOverflow();
      return;
    }
    const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.size = 0;
    if (line.trim().length > 0) this.onLine(line);
  }
}

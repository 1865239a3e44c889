import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from '../../../agent/src/core/index.js';
import { parseIngestLine } from '../../../agent/src/diag/index.js';

const NOW = 1_764_150_000_000;
const err = (line: string) => {
  const r = parseIngestLine(line, NOW);
  assert.equal(r.ok, false, `accepted: ${line}`);
  return r.ok ? '' : r.error;
};

describe('ingest lines', () => {
  it('accepts numbers, strings and booleans with optional ts, unit and labels', () => {
    const r = parseIngestLine(
      '{"sensor":"aq-7","value":12.5,"unit":"ug/m3","ts":1764150000001,"labels":{"site":"north"}}',
      NOW,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.item, {
      stream: 1,
      reading: {
        sensorId: 'aq-7',
        tsMs: 1764150000001,
        unit: 'ug/m3',
        value: { kind: 'number', value: 12.5 },
        labels: { site: 'north' },
      },
    });
    const s = parseIngestLine('{"sensor":"door","value":true}', NOW);
    assert.ok(
      s.ok && 'reading' in s.item && s.item.reading.tsMs === NOW && s.item.reading.value.kind === 'flag',
    );
    const t = parseIngestLine('{"sensor":"plate","value":"AB-123"}', NOW);
    assert.ok(t.ok && 'reading' in t.item && t.item.reading.value.kind === 'text');
  });

  it('names the field and the reason for every bad line', () => {
    assert.match(err('{"sensor":"aq-7"'), /^\(line\): not valid JSON/);
    assert.equal(err('[1,2]'), '(line): must be a JSON object');
    assert.equal(
      err('{"value":1}'),
      'sensor: must be a name of 1-128 letters, digits or ._:@/- starting with a letter or digit',
    );
    assert.match(err('{"sensor":"a\\u001b[31m","value":1}'), /^sensor: /);
    assert.equal(err('{"sensor":"a"}'), 'value: is required');
    assert.equal(err('{"sensor":"a","value":null}'), 'value: must be a number, string or boolean');
    assert.equal(err('{"sensor":"a","value":{"x":1}}'), 'value: must be a number, string or boolean');
    assert.equal(err('{"sensor":"a","value":1e999}'), 'value: must be a finite number');
    assert.equal(
      err('{"sensor":"a","value":1,"ts":1764150000}'),
      'ts: 1764150000 is not a plausible time in milliseconds',
    );
    assert.equal(
      err('{"sensor":"a","value":1,"ts":"now"}'),
      'ts: must be an integer (milliseconds since 1970)',
    );
    assert.equal(err('{"sensor":"a","value":1,"unit":5}'), 'unit: must be a string of at most 32 characters');
    assert.equal(
      err('{"sensor":"a","value":1,"labels":{"k":1}}'),
      'labels.k: must be a string of at most 256 characters',
    );
    assert.equal(err('{"sensor":"a","value":1,"extra":1}'), 'extra: is not a known field');
    assert.match(err(`{"sensor":"a","value":"${'x'.repeat(5000)}"}`), /^value: text longer/);
  });
});

describe('LineSplitter', () => {
  it('splits across chunks, strips CR, and caps line length without buffering the excess', () => {
    const lines: string[] = [];
    let overflows = 0;
    const s = new LineSplitter(
      10,
      (l) => lines.push(l),
      () => overflows++,
    );
    s.push(Buffer.from('ab'));
    s.push(Buffer.from('c\r\nde'));
    s.push(Buffer.from(`f\n${'x'.repeat(25)}`));
    s.push(Buffer.from('yyy\nok\n\nlast'));
    s.end();
    assert.deepEqual(lines, ['abc', 'def', 'ok', 'last']);
    assert.equal(overflows, 1);
  });
});

describe('log lines for a terminal', () => {
  it('formats pino lines and escapes control characters from hostile content', async () => {
    const { formatLogLine } = await import('../../../agent/src/cli/logs.js');
    const line = formatLogLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 10, 26),
        module: 'sync',
        msg: 'connection lost',
        url: 'mqtts://x:8883',
      }),
    );
    assert.equal(line, '2026-11-26T00:00:00.000Z WARN  [sync] connection lost  url=mqtts://x:8883');
    assert.equal(formatLogLine('raw \u001b[2J text'), 'raw \\x1b[2J text');
    assert.match(
      formatLogLine(JSON.stringify({ level: 50, time: 0, msg: 'x', err: { message: 'boom\u0007' } })),
      /err="boom\\u0007"$/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addMonth, nis2Clocks } from '../../../platform/src/console/incidents/index.js';

const H = 3_600_000;
const t = (s: string) => Date.parse(s);

describe('NIS2 reporting clocks', () => {
  it('adds a calendar month, keeping the day or taking the last of a shorter month', () => {
    assert.equal(new Date(addMonth(t('2025-01-15T10:00:00Z'))).toISOString(), '2025-02-15T10:00:00.000Z');
    assert.equal(new Date(addMonth(t('2025-01-31T10:00:00Z'))).toISOString(), '2025-02-28T10:00:00.000Z');
    assert.equal(new Date(addMonth(t('2024-01-31T10:00:00Z'))).toISOString(), '2024-02-29T10:00:00.000Z');
    assert.equal(new Date(addMonth(t('2025-12-20T00:00:00Z'))).toISOString(), '2026-01-20T00:00:00.000Z');
  });

  it('early warning at 24 h, notification at 72 h, final report a month after the notification', () => {
    const aware = t('2025-03-01T08:00:00Z');
    const c = nis2Clocks(aware, {}, aware + 2 * H);
    assert.deepEqual(
      c.map((x) => [x.stage, x.dueAt, x.status]),
      [
        ['early-warning', '2025-03-02T08:00:00.000Z', 'running'],
        ['notification', '2025-03-04T08:00:00.000Z', 'running'],
        ['final-report', '2025-04-04T08:00:00.000Z', 'running'],
      ],
    );
    assert.equal(c[0].remainingMs, 22 * H);
    const later = nis2Clocks(
      aware,
      { 'early-warning': aware + 20 * H, notification: aware + 50 * H },
      aware + 30 * H,
    );
    assert.deepEqual(
      later.map((x) => x.status),
      ['done', 'done', 'running'],
    );
    assert.equal(later[2].dueAt, '2025-04-03T10:00:00.000Z', 'a month after the notification actually sent');
    const late = nis2Clocks(aware, {}, aware + 25 * H);
    assert.deepEqual([late[0].status, late[0].remainingMs], ['overdue', -H]);
  });
});

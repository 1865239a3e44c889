import assert from 'node:assert/strict';
import { it } from 'node:test';
import { commitFailure, DISK_FULL_SLACK_BYTES } from '../../../agent/src/buffer/errors.js';

const sqliteError = (code: string): Error => Object.assign(new Error(code), { code });
const codeOf = (e: unknown): string | undefined => (e as { code?: string }).code;

it('a failed commit is a full disk only when the disk is full; an I/O error of the medium has its own code', () => {
  const plenty = () => 8 * 1024 ** 3;
  const none = () => 4096;
  assert.equal(codeOf(commitFailure(sqliteError('SQLITE_FULL'), '/d/outbox.db', plenty)), 'BUFFER_DISK_FULL');
  assert.equal(
    codeOf(commitFailure(sqliteError('SQLITE_IOERR_WRITE'), '/d/outbox.db', none)),
    'BUFFER_DISK_FULL',
  );
  assert.equal(
    codeOf(commitFailure(sqliteError('SQLITE_IOERR_FSYNC'), '/d/outbox.db', () => DISK_FULL_SLACK_BYTES - 1)),
    'BUFFER_DISK_FULL',
  );
  const io = commitFailure(sqliteError('SQLITE_IOERR_FSYNC'), '/d/outbox.db', plenty) as Error;
  assert.equal(codeOf(io), 'BUFFER_IO_ERROR');
  assert.match(io.message, /\/d\/outbox\.db.*SQLITE_IOERR_FSYNC.*nothing was accepted/);
  const unknownFree = commitFailure(sqliteError('SQLITE_IOERR_READ'), '/d/outbox.db', () => {
    throw new Error('statfs failed');
  });
  assert.equal(codeOf(unknownFree), 'BUFFER_IO_ERROR');
  const other = sqliteError('SQLITE_CONSTRAINT');
  assert.equal(commitFailure(other, '/d/outbox.db', plenty), other, 'anything else is rethrown as it is');
});

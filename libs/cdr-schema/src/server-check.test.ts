import { describe, expect, it } from 'vitest';
import { SERVER_MINIMUMS, adviceText, adviseServerSettings, formatBytes } from './server-check.js';

const MIB = 1024 ** 2;

describe('adviseServerSettings', () => {
  it.each([
    ['MariaDB 10.11 defaults', { innodb_buffer_pool_size: 128 * MIB, innodb_log_file_size: 96 * MIB }, ['innodb_buffer_pool_size', 'innodb_log_file_size']],
    ['a sized server', { innodb_buffer_pool_size: 8192 * MIB, innodb_log_file_size: 2048 * MIB }, []],
    ['exactly the minimums', { ...SERVER_MINIMUMS }, []],
    ['one byte below', { innodb_buffer_pool_size: SERVER_MINIMUMS.innodb_buffer_pool_size - 1, innodb_log_file_size: null }, ['innodb_buffer_pool_size']],
    ['a server without InnoDB variables', { innodb_buffer_pool_size: null, innodb_log_file_size: null }, []],
  ])('%s', (_label, settings, expected) => {
    expect(adviseServerSettings(settings).map((a) => a.setting)).toEqual(expected);
  });

  it('says what the value is and why it matters', () => {
    const [advice] = adviseServerSettings({ innodb_buffer_pool_size: 128 * MIB, innodb_log_file_size: null });
    expect(adviceText(advice!)).toMatch(/^innodb_buffer_pool_size is 128 MiB: .*at least 1 GiB/);
  });
});

describe('formatBytes', () => {
  it.each([
    [96 * MIB, '96 MiB'],
    [1024 * MIB, '1 GiB'],
    [3 * 1024 * MIB, '3 GiB'],
    [1536 * MIB, '1.5 GiB'],
    [1000 * MIB, '1000 MiB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

import { describe, expect, test } from 'vitest';
import { createSourceTable } from './source-table.js';

describe('source table', () => {
  test('exact addresses and CIDRs map to their sandbox; IPv4-mapped peers are normalised', () => {
    const table = createSourceTable();
    table.assign('a', ['10.200.0.2']);
    table.assign('b', ['127.0.0.0/8', '::1']);
    expect(table.lookup('10.200.0.2')).toBe('a');
    expect(table.lookup('::ffff:10.200.0.2')).toBe('a');
    expect(table.lookup('127.0.0.5')).toBe('b');
    expect(table.lookup('::1')).toBe('b');
    expect(table.lookup('10.200.0.3')).toBeUndefined();
  });

  test('an address another sandbox owns is refused and nothing changes', () => {
    const table = createSourceTable();
    table.assign('a', ['10.200.0.0/30']);
    expect(() => table.assign('b', ['10.200.0.2'])).toThrow(
      expect.objectContaining({ code: 'ERR_CONFLICT' }),
    );
    expect(table.lookup('10.200.0.2')).toBe('a');
    table.assign('a', ['10.200.1.2']);
    table.assign('b', ['10.200.0.2']);
    expect(table.lookup('10.200.0.2')).toBe('b');
    table.remove('b');
    expect(table.lookup('10.200.0.2')).toBeUndefined();
  });

  test('an unparsable address is a usage error', () => {
    expect(() => createSourceTable().assign('a', ['not-an-ip'])).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE' }),
    );
  });
});

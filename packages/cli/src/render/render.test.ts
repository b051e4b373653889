import { expect, test } from 'vitest';
import { formatDuration, formatTime } from './format-time.js';
import { renderTable } from './render-table.js';

test('renderTable aligns columns with two spaces and no trailing blanks', () => {
  expect(
    renderTable(
      ['NAME', 'CREATED', 'PHASE'],
      [
        ['demo', '2026-11-27 10:15:02 UTC', 'Ready'],
        ['a-longer-name', '-', 'Provisioning'],
      ],
    ),
  ).toBe(
    'NAME           CREATED                  PHASE\n' +
      'demo           2026-11-27 10:15:02 UTC  Ready\n' +
      'a-longer-name  -                        Provisioning\n',
  );
  expect(renderTable(['NAME', 'ÉTAT'], [['✓ é', '']])).toBe('NAME  ÉTAT\n✓ é\n');
});

test.for([
  [Date.UTC(2026, 10, 27, 10, 15, 2), '2026-11-27 10:15:02 UTC'],
  [0, '-'],
] as const)('formatTime(%i) = %s', ([ms, text]) => {
  expect(formatTime(ms)).toBe(text);
});

test.for([
  [45_000, '45s'],
  [723_000, '12m3s'],
  [5 * 3600_000 + 120_000, '5h2m'],
  [3 * 86_400_000 + 4 * 3600_000, '3d4h'],
] as const)('formatDuration(%i) = %s', ([ms, text]) => {
  expect(formatDuration(ms)).toBe(text);
});

import { OpenShellError } from '@openshell/policy-schema';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const EXPECTED =
  'expected a duration such as 30s, 5m, 2h, 1d, or a time such as 2026-11-27T10:15:02Z or "2026-11-27 10:15:02 UTC"';

/**
 * `--since`: a duration back from `now` (`30s`, `5m`, `2h`, `1d`, combinable as `1h30m`) or an
 * absolute time. A time without a zone is read as UTC, because every time this CLI prints is
 * UTC: a value copied from `openshell logs` output must mean the same instant.
 */
export function parseSince(text: string, now: number): number {
  const value = text.trim();
  if (/^([0-9]+[smhd])+$/.test(value)) {
    let total = 0;
    for (const [, amount, unit] of value.matchAll(/([0-9]+)([smhd])/g)) {
      total += Number(amount) * (UNIT_MS[unit ?? ''] ?? NaN);
    }
    if (!Number.isSafeInteger(total)) throw invalid(text);
    return now - total;
  }
  const match =
    /^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,3})?)?))?\s*(Z|UTC|[+-][0-9]{2}:?[0-9]{2})?$/i.exec(
      value,
    );
  if (match === null) throw invalid(text);
  const [, date, time = '00:00:00', zone = 'Z'] = match;
  const offset = /^(z|utc)$/i.test(zone)
    ? 'Z'
    : zone.replace(/^([+-][0-9]{2})([0-9]{2})$/, '$1:$2');
  const ms = Date.parse(`${date}T${time}${offset}`);
  // Date.parse accepts 2026-02-31 by rolling over; comparing the date back refuses it.
  if (Number.isNaN(ms) || (offset === 'Z' && new Date(ms).toISOString().slice(0, 10) !== date)) {
    throw invalid(text);
  }
  return ms;
}

function invalid(text: string): OpenShellError {
  return new OpenShellError('ERR_USAGE', `--since ${text}: ${EXPECTED}`);
}

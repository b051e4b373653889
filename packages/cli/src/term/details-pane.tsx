import type { Sandbox } from '@openshell/proto';
import { Box, Text } from 'ink';
import { formatDuration, formatTime } from '../render/format-time.js';
import { toPhaseName } from '../sandbox/sandbox-record.js';
import { fit } from './sandbox-panel.js';
import { colorProp, phaseColor } from './term-colors.js';

export interface DetailsPaneProps {
  readonly sandbox: Sandbox | undefined;
  readonly rows: number;
  readonly width: number;
  readonly nowMs: number;
  readonly color: boolean;
}

/** The selected sandbox's metadata: id, phase (and why), times, spec, labels, decision counts. */
export function DetailsPane(props: DetailsPaneProps) {
  const s = props.sandbox;
  if (s === undefined) return <Text>No sandbox selected.</Text>;
  const spec = s.spec;
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`);
  const fields: [string, string][] = [
    ['Name', s.name],
    ['Id', s.id],
    [
      'Created',
      `${formatTime(s.createdAtMs)} (${formatDuration(props.nowMs - s.createdAtMs)} ago)`,
    ],
    ['Policy', `v${s.currentPolicyVersion}`],
    [
      'Decisions',
      `${s.decisions?.allowed ?? 0} allowed, ${s.decisions?.denied ?? 0} denied, ${s.decisions?.audited ?? 0} audited`,
    ],
    ['From', spec?.from ?? '(host directories)'],
    [
      'Command',
      spec === undefined || spec.command.length === 0 ? '(idle)' : spec.command.join(' '),
    ],
    [
      'Providers',
      spec === undefined || spec.providers.length === 0 ? '-' : spec.providers.join(', '),
    ],
    ['Labels', labels.length === 0 ? '-' : labels.join(', ')],
  ];
  if (s.phaseReason !== undefined) fields.push(['Reason', s.phaseReason]);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        {'Phase      '}
        <Text {...colorProp(phaseColor(s.phase, props.color))}>{toPhaseName(s.phase)}</Text>
      </Text>
      {fields.slice(0, Math.max(0, props.rows - 1)).map(([label, value]) => (
        <Text key={label} wrap="truncate">
          {fit(`${label.padEnd(11)}${value}`, props.width)}
        </Text>
      ))}
    </Box>
  );
}

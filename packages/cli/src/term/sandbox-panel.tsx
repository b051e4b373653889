import type { Sandbox } from '@openshell/proto';
import { Box, Text } from 'ink';
import { formatDuration } from '../render/format-time.js';
import { toPhaseName } from '../sandbox/sandbox-record.js';
import { colorProp, phaseColor } from './term-colors.js';

export interface SandboxPanelProps {
  readonly sandboxes: readonly Sandbox[];
  readonly synced: boolean;
  readonly selectedIndex: number;
  /** Rows for sandboxes (the title and column header take two more). */
  readonly rows: number;
  readonly width: number;
  readonly nowMs: number;
  readonly color: boolean;
  readonly focused: boolean;
}

const FIXED = 2 + 13 + 8 + 7 + 8 + 8;

/** Sandboxes table: name, coloured phase, age, policy version, allowed/denied counts. */
export function SandboxPanel(props: SandboxPanelProps) {
  const nameWidth = Math.max(8, props.width - FIXED);
  const rows = Math.max(1, props.rows);
  // Keep the selection in view: scroll the window so the selected row is its last row at most.
  const start = Math.max(
    0,
    Math.min(props.selectedIndex - rows + 1, props.sandboxes.length - rows),
  );
  const shown = props.sandboxes.slice(start, start + rows);
  return (
    <Box flexDirection="column">
      <Text bold inverse={props.focused}>
        {fit(` Sandboxes (${props.sandboxes.length})`, props.width)}
      </Text>
      <Text dimColor>
        {fit(
          `  ${'NAME'.padEnd(nameWidth)}${'PHASE'.padEnd(13)}${'AGE'.padEnd(8)}${'POLICY'.padEnd(7)}${'ALLOWED'.padEnd(8)}DENIED`,
          props.width,
        )}
      </Text>
      {shown.length === 0 ? (
        <Text>{props.synced ? '  No sandboxes yet: openshell sandbox create' : '  Loading…'}</Text>
      ) : (
        shown.map((sandbox, offset) => {
          const selected = start + offset === props.selectedIndex;
          const phase = toPhaseName(sandbox.phase);
          const counts = sandbox.decisions;
          return (
            <Text key={sandbox.id} wrap="truncate" inverse={selected}>
              {selected ? '> ' : '  '}
              {fit(sandbox.name, nameWidth - 1).padEnd(nameWidth)}
              <Text {...colorProp(phaseColor(sandbox.phase, props.color))}>{phase.padEnd(13)}</Text>
              {formatDuration(props.nowMs - sandbox.createdAtMs).padEnd(8)}
              {`v${sandbox.currentPolicyVersion}`.padEnd(7)}
              {String(counts?.allowed ?? 0).padEnd(8)}
              {String(counts?.denied ?? 0)}
            </Text>
          );
        })
      )}
    </Box>
  );
}

/** `text` cut to `width` columns with an ellipsis, so a long name never wraps the table. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

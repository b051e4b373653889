import { Box, Text } from 'ink';
import { colorProp } from './term-colors.js';

export type PolicyState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly yaml: string }
  | { readonly kind: 'failed'; readonly message: string };

export interface PolicyPaneProps {
  readonly policy: PolicyState;
  readonly rows: number;
  readonly scroll: number;
  readonly color: boolean;
}

/** The effective policy YAML, `rows` lines from `scroll` (clamped to the last page). */
export function PolicyPane(props: PolicyPaneProps) {
  if (props.policy.kind === 'loading') return <Text dimColor>Loading policy…</Text>;
  if (props.policy.kind === 'failed') {
    return <Text {...colorProp(props.color ? 'red' : undefined)}>{props.policy.message}</Text>;
  }
  const lines = props.policy.yaml.replace(/\n$/, '').split('\n');
  const rows = Math.max(1, props.rows);
  const top = Math.max(0, Math.min(props.scroll, lines.length - rows));
  return (
    <Box flexDirection="column">
      {lines.slice(top, top + rows).map((line, offset) => (
        <Text key={top + offset} wrap="truncate">
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </Box>
  );
}

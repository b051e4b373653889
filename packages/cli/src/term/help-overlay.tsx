import { Box, Text } from 'ink';

const KEYS: readonly [string, string][] = [
  ['j/k ↑/↓', 'move the selection (list) or scroll (logs, policy)'],
  ['PgUp/PgDn', 'move or scroll a page'],
  ['Enter', 'details of the selected sandbox'],
  ['l', 'live decision log'],
  ['p', 'effective policy'],
  ['f', 'follow the newest log line on/off'],
  ['/', 'filter log lines by text (Enter applies, Esc cancels)'],
  ['a', 'filter log lines by action: all, deny, allow, audit'],
  ['d', 'delete the selected sandbox (asks y/n)'],
  ['Esc', 'back to the sandbox list'],
  ['?', 'this help (any key closes it)'],
  ['q Ctrl-C', 'quit'],
];

/** Key reference shown by `?`. */
export function HelpOverlay() {
  return (
    <Box flexDirection="column">
      <Text bold>Keys</Text>
      {KEYS.map(([key, what]) => (
        <Text key={key} wrap="truncate">
          {`  ${key.padEnd(11)}${what}`}
        </Text>
      ))}
    </Box>
  );
}

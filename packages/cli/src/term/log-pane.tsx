import { Box, Text } from 'ink';
import { visibleWindow, type LogLine } from './log-buffer.js';
import { actionColor, colorProp } from './term-colors.js';

export interface LogPaneProps {
  /** Already filtered, oldest first. */
  readonly lines: readonly LogLine[];
  readonly rows: number;
  readonly scrollBack: number;
  readonly color: boolean;
}

/** The decision log, newest at the bottom; only the rows on screen are rendered. */
export function LogPane(props: LogPaneProps) {
  const { start, end } = visibleWindow(props.lines.length, props.rows, props.scrollBack);
  if (props.lines.length === 0) return <Text dimColor>No log entries (yet).</Text>;
  return (
    <Box flexDirection="column">
      {props.lines.slice(start, end).map((line, offset) => (
        <Text
          key={start + offset}
          wrap="truncate"
          {...colorProp(actionColor(line.action, props.color))}
        >
          {line.text}
        </Text>
      ))}
    </Box>
  );
}

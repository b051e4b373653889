import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import { DetailsPane } from './details-pane.js';
import { HelpOverlay } from './help-overlay.js';
import { DEFAULT_LOG_CAPACITY, filterLogLines } from './log-buffer.js';
import { LogPane } from './log-pane.js';
import { PolicyPane } from './policy-pane.js';
import { sleepUnlessAborted, type LinkStatus, type ReconnectDeps } from './reconnect.js';
import { fit, SandboxPanel } from './sandbox-panel.js';
import { colorProp } from './term-colors.js';
import type { TermGateway } from './term-gateway.js';
import { useLogFollow, usePolicy, useSandboxWatch } from './term-hooks.js';
import {
  INITIAL_UI_STATE,
  reduceKey,
  resolveSelection,
  type TermUiState,
} from './term-ui-state.js';

export interface TermAppProps {
  readonly gateway: TermGateway;
  readonly color: boolean;
  /** Fixed size for tests; default: the terminal's, following resizes. */
  readonly size?: { readonly columns: number; readonly rows: number };
  readonly reconnect?: ReconnectDeps;
  readonly logCapacity?: number;
  readonly now?: () => number;
  /** How often ages refresh; every other redraw is driven by gateway events and keys. */
  readonly clockMs?: number;
  /** Called when the user quits (q, Ctrl-C), just before the app exits; lets tests observe it. */
  readonly onQuit?: () => void;
}

const DEFAULT_RECONNECT: ReconnectDeps = { sleep: sleepUnlessAborted };

/** The `openshell term` dashboard. */
export function TermApp(props: TermAppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const reconnect = props.reconnect ?? DEFAULT_RECONNECT;
  const now = props.now ?? Date.now;
  const nowMs = useClock(now, props.clockMs ?? 5_000);
  const [ui, setUi] = useState<TermUiState>(INITIAL_UI_STATE);
  // Keys read the newest state through refs: several keys can arrive before React re-renders
  // (a paste, a fast typist), and each must see the previous key's effect.
  const uiRef = useRef(ui);
  const [flash, setFlash] = useState<string | undefined>(undefined);

  const { map, latest, link } = useSandboxWatch(props.gateway, reconnect);
  const index = resolveSelection(
    ui,
    map.sandboxes.map((s) => s.id),
  );
  const selected = map.sandboxes[index];
  const lines = useLogFollow(
    props.gateway,
    selected?.name,
    reconnect,
    props.logCapacity ?? DEFAULT_LOG_CAPACITY,
  );
  const filtered = useMemo(() => filterLogLines(lines, ui.filter), [lines, ui.filter]);
  const policy = usePolicy(
    props.gateway,
    selected?.name,
    selected?.currentPolicyVersion ?? 0,
    ui.view === 'policy',
  );

  const listRows = Math.min(
    Math.max(map.sandboxes.length, 1),
    Math.max(3, Math.floor(size.rows / 4)),
  );
  // Header, panel title + column header, pane title, footer, and one spare row: ink redraws
  // the whole screen (flicker) when its output is as tall as the terminal.
  const paneRows = Math.max(1, size.rows - listRows - 6);

  const paneRowsRef = useRef(paneRows);
  paneRowsRef.current = paneRows;
  useInput((input, key) => {
    const result = reduceKey(
      uiRef.current,
      { ...key, input },
      { sandboxes: latest.current.sandboxes, pageRows: paneRowsRef.current },
    );
    uiRef.current = result.state;
    setUi(result.state);
    // A message ("Deleted demo") stays until the next key, then the key hints come back.
    setFlash(undefined);
    const effect = result.effect;
    if (effect?.kind === 'quit') {
      props.onQuit?.();
      exit();
    } else if (effect?.kind === 'delete') {
      setFlash(`Deleting ${effect.name}…`);
      props.gateway.deleteSandbox(effect.name).then(
        () => setFlash(`Deleted ${effect.name}`),
        (err: unknown) =>
          setFlash(`Delete failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  });

  const red = props.color ? 'red' : undefined;
  return (
    <Box flexDirection="column" width={size.columns}>
      <Text wrap="truncate">
        <Text bold>openshell term</Text>
        {'  '}
        <LinkText link={link} color={props.color} />
      </Text>
      <SandboxPanel
        sandboxes={map.sandboxes}
        synced={map.synced}
        selectedIndex={index}
        rows={listRows}
        width={size.columns}
        nowMs={nowMs}
        color={props.color}
        focused={ui.focus === 'list'}
      />
      <Text bold inverse={ui.focus === 'pane'} wrap="truncate">
        {fit(paneTitle(ui, selected?.name, filtered.length, lines.length), size.columns)}
      </Text>
      <Box flexDirection="column" height={paneRows} overflow="hidden">
        {link.kind === 'down' ? (
          <Text {...colorProp(red)}>
            {`Gateway unreachable: ${link.message}\nRetrying in ${Math.ceil(link.retryInMs / 1000)}s; the view resumes when it answers.`}
          </Text>
        ) : ui.help ? (
          <HelpOverlay />
        ) : ui.view === 'logs' ? (
          <LogPane lines={filtered} rows={paneRows} scrollBack={ui.logScroll} color={props.color} />
        ) : ui.view === 'policy' ? (
          <PolicyPane
            policy={policy}
            rows={paneRows}
            scroll={ui.policyScroll}
            color={props.color}
          />
        ) : (
          <DetailsPane
            sandbox={selected}
            rows={paneRows}
            width={size.columns}
            nowMs={nowMs}
            color={props.color}
          />
        )}
      </Box>
      {ui.confirmDelete !== undefined ? (
        <Text {...colorProp(red)} bold wrap="truncate">
          {`Delete sandbox ${ui.confirmDelete}? (y/n)`}
        </Text>
      ) : ui.filterDraft !== undefined ? (
        <Text wrap="truncate">{`/${ui.filterDraft}▏  Enter apply · Esc cancel`}</Text>
      ) : (
        <Text dimColor wrap="truncate">
          {fit(
            flash ??
              'j/k ⏎ · l logs · p policy · f follow · / a filter · d delete · ? help · q quit',
            size.columns,
          )}
        </Text>
      )}
    </Box>
  );
}

function LinkText(props: { link: LinkStatus; color: boolean }) {
  const { link } = props;
  if (link.kind === 'live')
    return <Text {...colorProp(props.color ? 'green' : undefined)}>● connected</Text>;
  if (link.kind === 'connecting') return <Text dimColor>connecting…</Text>;
  return (
    <Text {...colorProp(props.color ? 'red' : undefined)}>
      {`gateway unreachable, retrying in ${Math.ceil(link.retryInMs / 1000)}s: ${link.message}`}
    </Text>
  );
}

function paneTitle(
  ui: TermUiState,
  name: string | undefined,
  shown: number,
  total: number,
): string {
  const who = name ?? '-';
  if (ui.help) return ' Help';
  if (ui.view === 'policy') return ` Policy: ${who}`;
  if (ui.view === 'details') return ` Details: ${who}`;
  const parts = [` Logs: ${who}`, ui.follow ? '[follow]' : '[paused]'];
  if (ui.filter.action !== 'all') parts.push(`action=${ui.filter.action}`);
  if (ui.filter.text !== '') parts.push(`text="${ui.filter.text}"`);
  parts.push(`${shown}/${total}`);
  return parts.join('  ');
}

function useTerminalSize(fixed: TermAppProps['size']): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed !== undefined) return undefined;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

function useClock(now: () => number, everyMs: number): number {
  const [value, setValue] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setValue(now()), everyMs);
    return () => clearInterval(timer);
  }, [now, everyMs]);
  return value;
}

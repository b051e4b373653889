import { WatchEventType, type Sandbox, type WatchSandboxesResponse } from '@openshell/proto';

/** The dashboard's view of the gateway's sandboxes, fed only by WatchSandboxes events. */
export interface SandboxMapState {
  /** Oldest first (the order `sandbox list` uses), then by name for equal creation times. */
  readonly sandboxes: readonly Sandbox[];
  /** The initial snapshot is complete (SYNCED seen); until then the panel says "loading". */
  readonly synced: boolean;
}

export const EMPTY_SANDBOX_MAP: SandboxMapState = { sandboxes: [], synced: false };

/** Applies one watch event: ADDED/UPDATED upsert by id, DELETED removes, SYNCED marks loaded. */
export function applyWatchEvent(
  state: SandboxMapState,
  event: WatchSandboxesResponse,
): SandboxMapState {
  switch (event.type) {
    case WatchEventType.WATCH_EVENT_TYPE_SYNCED:
      return { ...state, synced: true };
    case WatchEventType.WATCH_EVENT_TYPE_ADDED:
    case WatchEventType.WATCH_EVENT_TYPE_UPDATED: {
      const sandbox = event.sandbox;
      if (sandbox === undefined) return state;
      const rest = state.sandboxes.filter((s) => s.id !== sandbox.id);
      return { ...state, sandboxes: sortSandboxes([...rest, sandbox]) };
    }
    case WatchEventType.WATCH_EVENT_TYPE_DELETED: {
      const id = event.sandbox?.id;
      if (id === undefined) return state;
      return { ...state, sandboxes: state.sandboxes.filter((s) => s.id !== id) };
    }
    case WatchEventType.WATCH_EVENT_TYPE_UNSPECIFIED:
    case WatchEventType.UNRECOGNIZED:
      return state;
  }
}

/**
 * A reconnected watch replays every sandbox as ADDED, and sandboxes deleted while the stream
 * was down would never get their DELETED; starting the replay from an empty map drops them.
 */
export function resetForResync(state: SandboxMapState): SandboxMapState {
  return { ...state, synced: false, sandboxes: [] };
}

function sortSandboxes(sandboxes: Sandbox[]): Sandbox[] {
  return sandboxes.sort((a, b) => a.createdAtMs - b.createdAtMs || a.name.localeCompare(b.name));
}

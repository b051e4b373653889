import type { SessionRequest } from '@openshell/proto';
import type { Logger } from './logger.js';
import type { SessionChannel } from './session-events.js';

/** Events kept while no peer is connected; a sandbox produces few channel-less events. */
const QUEUE_LIMIT = 1000;

export interface EventOutbox {
  /** A peer connected (after its hello went out): it gets sticky and queued events. */
  add(channel: SessionChannel): void;
  remove(channel: SessionChannel): void;
  /**
   * Sends to every connected peer, or queues until one connects. A sticky event (the main
   * process's exit) is also replayed to every peer that connects later: a report written
   * into a stream that was breaking is lost, and the gateway must not miss that one.
   */
  broadcast(event: SessionRequest, options?: { readonly sticky?: boolean }): void;
}

/**
 * Creates the outbox for events that belong to no session (main exit, detached shell exit).
 *
 * @example
 * const outbox = createEventOutbox(log);
 * outbox.broadcast(exitEvent, { sticky: true });
 */
export function createEventOutbox(log: Logger): EventOutbox {
  const channels = new Set<SessionChannel>();
  const sticky: SessionRequest[] = [];
  const queue: SessionRequest[] = [];
  return {
    add(channel) {
      channels.add(channel);
      for (const event of sticky) channel.send(event);
      for (const event of queue.splice(0)) channel.send(event);
    },
    remove(channel) {
      channels.delete(channel);
    },
    broadcast(event, options = {}) {
      if (options.sticky === true) sticky.push(event);
      if (channels.size > 0) {
        for (const channel of channels) channel.send(event);
        return;
      }
      if (options.sticky === true) return;
      if (queue.length >= QUEUE_LIMIT) {
        const dropped = queue.shift();
        log('event queue full; dropped the oldest event', { kind: dropped?.payload?.$case });
      }
      queue.push(event);
    },
  };
}

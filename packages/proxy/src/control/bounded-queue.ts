/** A FIFO that keeps at most `limit` items, dropping the oldest and counting what it dropped. */
export interface BoundedQueue<T> {
  push(item: T): void;
  shift(): T | undefined;
  readonly size: number;
  readonly dropped: number;
}

/**
 * Holds decision events while the gateway is unreachable. The oldest go first: the recent
 * ones are what an operator investigating a live incident needs, and every event is in the
 * proxy's own log regardless.
 */
export function createBoundedQueue<T>(limit: number): BoundedQueue<T> {
  let items: T[] = [];
  let head = 0;
  let dropped = 0;
  return {
    push(item) {
      items.push(item);
      if (items.length - head > limit) {
        head += 1;
        dropped += 1;
      }
      // Compact now and then so a long outage does not keep dead slots forever.
      if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
    },
    shift() {
      if (head >= items.length) return undefined;
      const item = items[head];
      head += 1;
      if (head === items.length) {
        items = [];
        head = 0;
      }
      return item;
    },
    get size() {
      return items.length - head;
    },
    get dropped() {
      return dropped;
    },
  };
}

/**
 * Long synchronous work (hashing, reading many small files) in bundle build and verify gives
 * the event loop a turn every few milliseconds, so a service building or verifying a large
 * bundle keeps answering its other requests.
 */
const YIELD_EVERY_MS = 10;

/** Gives the event loop a turn when the synchronous work since the last one ran long. */
export class Pacer {
  #last = performance.now();
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#last = performance.now();
  }
}

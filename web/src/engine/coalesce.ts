/**
 * One run at a time of a repeatable job (flush the outbox, catch up with the server): a call while it runs
 * shares that run and asks for one more pass after it, so nothing asked for during a run is missed.
 */
export class Coalesced {
  #running: Promise<void> | null = null;
  #again = false;

  /** The run in progress, if any. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  /** `pass` returns false to end the run early (no further pass even if one was asked for). */
  run(pass: () => Promise<boolean | undefined>, stopped: () => boolean): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        if ((await pass()) === false) return;
      } while (this.#again && !stopped());
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }
}

// A worker's resources in the order they were started; shutdown stops them in reverse, so
// nothing is closed while something started after it still uses it (fastify's onClose order).

export class Lifespan {
  readonly #stops: Array<{ name: string; stop: () => Promise<void> | void }> = [];

  /** Registers how to stop a resource that has just been started. */
  defer(name: string, stop: () => Promise<void> | void): void {
    this.#stops.push({ name, stop });
  }

  /** Stops everything in reverse order; one failing stop does not skip the others. */
  async close(onError: (name: string, err: unknown) => void = () => undefined): Promise<void> {
    for (const { name, stop } of this.#stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        onError(name, err);
      }
    }
  }
}

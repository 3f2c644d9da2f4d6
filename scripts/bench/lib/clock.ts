// One clock for every process of a run: process.hrtime reads CLOCK_MONOTONIC, which is
// system-wide on Linux, so a send time stamped in one process can be subtracted in another.

/** Microseconds of the system-wide monotonic clock. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

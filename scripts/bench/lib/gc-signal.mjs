// Preloaded (--import) into every server process the bench starts, with --expose-gc: SIGUSR2 runs
// a full garbage collection, so memory is read after collectable garbage is gone.
if (typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
  });
}

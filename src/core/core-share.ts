// The host's cores, shared by one run's steps: a VM claims the vCPUs it runs while it runs,
// and CPU-heavy work inside this process (the bundler's compression) asks how many are free
// before each job, so a boot test is not slowed down by gzip on the same cores. Advisory and
// in-process: it does not see other programs (the boot test's vCPU rule reads the load).

export interface CoreShare {
  /** The host's cores. */
  readonly total: number;
  /** Marks `cores` as busy until the returned function is called (once; later calls do nothing). */
  claim(cores: number): () => void;
  /** Cores not claimed, at least 1: work that asks always gets one. */
  free(): number;
}

export function coreShare(total: number): CoreShare {
  let claimed = 0;
  return {
    total,
    claim(cores) {
      const n = Math.max(0, Math.floor(cores));
      claimed += n;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        claimed -= n;
      };
    },
    free: () => Math.max(1, total - claimed),
  };
}

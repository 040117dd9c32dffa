import { GCProfiler, getHeapStatistics } from "node:v8";

/**
 * Counts the bytes allocated on this thread's V8 heap from now until `stop()`: what every garbage
 * collection meanwhile freed (V8's GC profiler reports the heap before and after each one) plus what
 * the heap grew by. Garbage per sample is what makes the collector pause the sampling loop.
 */
export function heapAllocationMeter(): { stop(): number } {
  const profiler = new GCProfiler();
  profiler.start();
  const usedAtStart = getHeapStatistics().used_heap_size;
  return {
    stop() {
      const usedAtEnd = getHeapStatistics().used_heap_size;
      let freed = 0;
      for (const gc of profiler.stop()?.statistics ?? [])
        freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      return freed + usedAtEnd - usedAtStart;
    },
  };
}

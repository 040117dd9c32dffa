/**
 * A reply deadline that survives event-loop stalls. After a stall longer than the timeout (a GC
 * pause, start-up work), Node runs the expired timer before it reads the I/O that arrived meanwhile,
 * so a plain setTimeout would give up on a reply already waiting in the socket or tty buffer. Once
 * due, this timer yields one turn (setImmediate runs after the poll phase has read that I/O) and only
 * then expires.
 *
 * Returns the function that cancels it.
 */
export function startReplyTimer(timeoutMs: number, expire: () => void): () => void {
  let afterIo: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    afterIo = setImmediate(expire);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    if (afterIo !== undefined) clearImmediate(afterIo);
  };
}

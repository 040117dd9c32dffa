/** Run ids are `R<yyyymmdd>-<seq>`: the UTC day the run was created and a sequence within that day. */
export const RUN_ID_PATTERN = "^R[0-9]{8}-[0-9]{4,6}$";

/**
 * Hands out run ids: the next sequence after the highest one used that day, in the run store or
 * in this process (so two requests in the same tick never share one). Sequences have at least
 * four digits.
 */
export class RunIdGenerator {
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly lastStored: (prefix: string) => number,
    private readonly known: () => Iterable<string>,
  ) {}

  next(wallMs: number): string {
    const day = new Date(wallMs).toISOString().slice(0, 10).replaceAll("-", "");
    const prefix = `R${day}-`;
    let last = Math.max(this.issued.get(prefix) ?? 0, this.lastStored(prefix));
    for (const id of this.known()) {
      if (!id.startsWith(prefix)) continue;
      const seq = Number(id.slice(prefix.length));
      if (Number.isInteger(seq) && seq > last) last = seq;
    }
    const seq = last + 1;
    this.issued.set(prefix, seq);
    for (const key of this.issued.keys()) if (key !== prefix) this.issued.delete(key);
    return `${prefix}${String(seq).padStart(4, "0")}`;
  }
}

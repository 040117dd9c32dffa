/** `cellbench cell ...` against a real daemon API on 127.0.0.1 (simulated bench, one channel). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/cli/client/api-client.js";
import { clientCommand } from "../../../../src/cli/client/client-command.js";
import { type HttpBench, openHttpBench, TOKENS, waitFor } from "../../../support/http-bench.js";

const CELL_YAML = `id: NMC-0777
chemistry: li-ion-nmc
capacity_ah: 3
voltage: [2.5, 4.2]
current: [-6, 6]
temperature: [-20, 60]
maker: LG Chem
lot: 7
mass_g: 46.5 g
notes: |
  received at 3.6 V
  from the July shipment
`;
const SHORT =
  "name: short\nsteps:\n  - repeat: 1\n    steps:\n      - Discharge at 1C for 2 minutes\n      - Charge at 1C for 2 minutes\n";

let dir: string;
let h: HttpBench | undefined;
const out: string[] = [];
const print = (line: string) => void out.push(line);
let url = "";
const cli = (...argv: string[]) =>
  clientCommand(argv, print, { CELLBENCH_URL: url, CELLBENCH_TOKEN: TOKENS.operator });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellbench-cli-cells-"));
  writeFileSync(join(dir, "cell.yaml"), CELL_YAML);
  writeFileSync(join(dir, "short.yaml"), SHORT);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  out.length = 0;
  await h?.close();
  h = undefined;
});

describe("cellbench cell", () => {
  it("adds, lists, mounts, runs without --cell, shows the history and unmounts", async () => {
    h = await openHttpBench({ auto: true });
    url = await h.app.listen({ host: "127.0.0.1", port: 0 });
    await cli("cell", "list");
    expect(out).toEqual(["no registered cells"]);
    out.length = 0;

    await cli("cell", "add", join(dir, "cell.yaml"));
    await cli("cell", "mount", "NMC-0777", "ch1");
    await cli("run", "start", "--channel", "ch1", "--profile", join(dir, "short.yaml"));
    expect(out[0]).toBe("registered cell NMC-0777: li-ion-nmc, 3 Ah");
    expect(out[1]).toBe("mounted cell NMC-0777 on ch1; runs on ch1 without --cell use it");
    const id = /started (R\d{8}-\d{4}) on ch1: short on cell NMC-0777/.exec(out[2] ?? "")?.[1] as string;
    expect(id).toBeDefined();
    const bench = h;
    await waitFor(() => bench.runs.get(id).state === "completed", "the run", 60_000);
    out.length = 0;

    await cli("cell", "list");
    expect(out[0]).toMatch(
      /^CELL\s+CHEMISTRY\s+AH\s+CHANNEL\s+RUNS\s+CYCLES\s+LAST AH\s+RETENTION\s+MAKER \/ LOT \/ PROJECT$/,
    );
    expect(out[1]).toMatch(
      /^NMC-0777\s+li-ion-nmc\s+3\.000\s+ch1\s+1\s+1\s+0\.10\d\d\s+100\.0 %\s+LG Chem \/ 7$/,
    );
    out.length = 0;

    await cli("cell", "show", "NMC-0777");
    expect(out).toContain("maker     LG Chem");
    expect(out).toContain("mass      46.5 g");
    expect(out).toContain("notes     received at 3.6 V\n          from the July shipment");
    expect(
      out.some(
        (l) =>
          l.startsWith("mounted   on ch1 since ") &&
          l.endsWith(`(inside the chamber of ch1 since run ${id})`),
      ),
    ).toBe(true);
    expect(out.some((l) => /^history {3}1 run, 1 cycles, 0\.1\d{3} Ah in, 0\.1\d{3} Ah out$/.test(l))).toBe(
      true,
    );
    expect(out.some((l) => l.startsWith(`  ${id}  ch1  completed  `))).toBe(true);
    out.length = 0;

    await cli("cell", "unmount", "ch1");
    await cli("cell", "unmount", "ch1");
    expect(out).toEqual(["cell NMC-0777 taken off ch1", "no cell on ch1"]);

    const refused = await cli("run", "start", "--channel", "ch1", "--profile", join(dir, "short.yaml")).catch(
      (err: unknown) => err,
    );
    expect((refused as ApiError).code).toBe("NO_CELL_MOUNTED");
    const unknown = await cli("cell", "show", "NOPE").catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(ApiError);
    expect((unknown as ApiError).code).toBe("CELL_UNKNOWN");
    const dup = await cli("cell", "add", join(dir, "cell.yaml")).catch((err: unknown) => err);
    expect((dup as ApiError).code).toBe("CELL_EXISTS");
  });

  it("explains usage mistakes", async () => {
    for (const argv of [
      ["cell"],
      ["cell", "frobnicate"],
      ["cell", "add"],
      ["cell", "mount", "NMC-0777"],
      ["cell", "unmount", "ch1", "ch2"],
      ["cell", "add", join(dir, "missing.yaml")],
    ]) {
      const err = await clientCommand(argv, print, { CELLBENCH_URL: "http://127.0.0.1:9" }).catch(
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code, argv.join(" ")).toBe("USAGE");
    }
  });
});

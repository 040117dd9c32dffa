import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type Influxd, startInfluxd } from "./influxd.js";

let influxd: Influxd | undefined;
let holder: Server | undefined;
afterEach(async () => {
  await influxd?.stop();
  influxd = undefined;
  await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
  holder = undefined;
});

describe("startInfluxd", () => {
  it("starts again on fresh ports when a port picked free was taken before influxd bound it", async () => {
    holder = createServer((socket) => socket.destroy());
    const taken = await new Promise<number>((resolve) =>
      holder?.listen(0, "127.0.0.1", () => {
        const address = holder?.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      }),
    );
    const picked: number[] = [];
    influxd = await startInfluxd({
      pickPort: async () => {
        const port = picked.length === 0 ? taken : await freePort();
        picked.push(port);
        return port;
      },
    });
    expect(picked[0]).toBe(taken);
    expect(influxd.port).not.toBe(taken);
    expect(picked.length).toBeGreaterThanOrEqual(4);
    expect(await influxd.query("SHOW DATABASES")).toHaveProperty("results");
  });
});

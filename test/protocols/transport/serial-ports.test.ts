import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listSerialPorts } from "../../../protocols/transport/serial-ports.js";

describe("listSerialPorts", () => {
  it("lists by-id names with the device they point to, sorted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cellbench-byid-"));
    try {
      await writeFile(join(dir, "ttyUSB0"), "");
      await writeFile(join(dir, "ttyACM0"), "");
      await symlink(join(dir, "ttyUSB0"), join(dir, "usb-FTDI_FT232R-if00-port0"));
      await symlink(join(dir, "ttyACM0"), join(dir, "usb-EA_PSB_10080-60-if00"));
      const ports = await listSerialPorts(dir);
      expect(ports.filter((p) => p.byIdPath.includes("usb-"))).toEqual([
        { byIdPath: join(dir, "usb-EA_PSB_10080-60-if00"), devicePath: join(dir, "ttyACM0") },
        { byIdPath: join(dir, "usb-FTDI_FT232R-if00-port0"), devicePath: join(dir, "ttyUSB0") },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("returns an empty list where the directory does not exist (no udevadm involved)", async () => {
    expect(await listSerialPorts("/nonexistent/serial/by-id")).toEqual([]);
  });
});

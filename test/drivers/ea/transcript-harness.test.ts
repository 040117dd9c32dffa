import { describe, expect, it } from "vitest";
import { createTransport, ModbusBus, ScpiClient } from "../../../protocols/index.js";
import { expectExchange, expectModbusExchange } from "../../support/transcript.js";

describe("transcript harness", () => {
  it("answers scripted exchanges in order and passes when all are consumed", async () => {
    const volts = await expectExchange([["SYST:LOCK ON"], ["MEAS:VOLT?", "4.1012 V"]], async (t) => {
      const transport = createTransport(t.url);
      await transport.open();
      const scpi = new ScpiClient(transport, { timeoutMs: 300 });
      await scpi.write("SYST:LOCK ON");
      const v = await scpi.queryNumber("MEAS:VOLT?", { unit: "V" });
      await transport.close();
      return v;
    });
    expect(volts).toBe(4.1012);
  });

  it("fails at once on an unexpected command, naming what was expected", async () => {
    const run = expectExchange([["MEAS:VOLT?", "4.1 V"]], async (t) => {
      const transport = createTransport(t.url);
      await transport.open();
      const scpi = new ScpiClient(transport, { timeoutMs: 5000 });
      try {
        return await scpi.query("MEAS:CURR?");
      } finally {
        await transport.close();
      }
    });
    await expect(run).rejects.toThrow(/unexpected command "MEAS:CURR\?"; expected "MEAS:VOLT\?"/);
  });

  it("fails on exchanges left unconsumed", async () => {
    const run = expectExchange([["OUTP ON"], ["OUTP OFF"]], async (t) => {
      const transport = createTransport(t.url);
      await transport.open();
      await transport.write(Buffer.from("OUTP ON\n"));
      await transport.close();
    });
    await expect(run).rejects.toThrow(/1 exchange\(s\) not consumed:\n {2}OUTP OFF/);
  });

  it("answers `always` exchanges out of order", async () => {
    await expectExchange(
      [["SOUR:VOLT 4.2"], ["SOUR:CURR 1"]],
      async (t) => {
        const transport = createTransport(t.url);
        await transport.open();
        const scpi = new ScpiClient(transport, { timeoutMs: 300, errorQuery: "SYST:ERR:ALL?" });
        await scpi.write("SOUR:VOLT 4.2");
        await scpi.write("SOUR:CURR 1");
        expect(t.received).toEqual(["SOUR:VOLT 4.2", "SYST:ERR:ALL?", "SOUR:CURR 1", "SYST:ERR:ALL?"]);
        await transport.close();
      },
      { always: [["SYST:ERR:ALL?", '0,"No error"']] },
    );
  });

  it("scripts Modbus RTU requests and fails on a wrong register", async () => {
    const values = await expectModbusExchange(
      [
        {
          request: { functionCode: 3, address: 507, quantity: 3 },
          response: { functionCode: 3, values: [1, 2, 3] },
        },
      ],
      async (t) => {
        const bus = new ModbusBus(createTransport(t.url), { framing: "rtu" });
        await bus.transport.open();
        const device = bus.device({ unit: 1, timeoutMs: 300 });
        const read = await device.readHoldingRegisters(507, 3);
        bus.dispose();
        await bus.transport.close();
        return read;
      },
      { framing: "rtu" },
    );
    expect(values).toEqual([1, 2, 3]);

    const wrong = expectModbusExchange(
      [
        {
          request: { functionCode: 6, address: 500, value: 100 },
          response: { functionCode: 6, address: 500, value: 100 },
        },
      ],
      async (t) => {
        const bus = new ModbusBus(createTransport(t.url), { framing: "rtu" });
        await bus.transport.open();
        try {
          await bus.device({ unit: 1, timeoutMs: 2000 }).writeRegister(501, 100);
        } finally {
          bus.dispose();
          await bus.transport.close();
        }
      },
      { framing: "rtu" },
    );
    await expect(wrong).rejects.toThrow(/unexpected request \[unit=1 fc=06 addr=501/);
  });
});

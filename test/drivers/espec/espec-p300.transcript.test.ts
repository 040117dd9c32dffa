import { describe, expect, it } from "vitest";
import { EspecP300 } from "../../../drivers/espec/espec-p300.js";
import { expectExchange, type LineExchange, type Transcript } from "../../support/transcript.js";
import { eventually, rejection } from "../../support/wait.js";

const CRLF = { readTerminator: "\r\n" } as const;
const IDENTIFY: LineExchange[] = [
  ["TYPE?", "T,S2,160.0"],
  ["TEMP?", "23.0,25.0,100.0,-40.0"],
];

function p300(t: Transcript, options: Record<string, unknown> = {}): EspecP300 {
  return new EspecP300({
    id: "tc3",
    driver: "espec/p300",
    transport: t.url,
    options: { timeoutMs: 150, retryMs: 50, ...options },
  });
}

describe("espec/p300 transcript", () => {
  it("identifies with TYPE? and TEMP?, and takes the range from both", async () => {
    await expectExchange(
      [
        ["TYPE?", "T,T,S2,90.0"],
        ["TEMP?", "23.0,25.0,100.0,-40.0"],
      ],
      async (t) => {
        const dev = p300(t, { rangeC: [-70, 180] });
        await dev.connect();
        expect(dev.chamber.ranges.temperatureC).toEqual([-40, 90]);
        await dev.close();
      },
      CRLF,
    );
  });

  it("identifies once when connect() is called again while connecting; close() waits for it", async () => {
    await expectExchange(
      IDENTIFY,
      async (t) => {
        const dev = p300(t);
        await Promise.all([dev.connect(), dev.connect(), dev.close()]);
        expect(dev.linkState).toBe("closed");
      },
      CRLF,
    );
  });

  it("reads TEMP? as PV,SP,HIGH,LOW", async () => {
    await expectExchange(
      [...IDENTIFY, ["TEMP?", "-12.3,-15.0,100.0,-40.0"]],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        expect(await dev.chamber.read()).toMatchObject({ temperatureC: -12.3, setpointC: -15 });
        await dev.close();
      },
      CRLF,
    );
  });

  it("sets the set point, switches to CONSTANT when needed, and goes to STANDBY (twice) as safe state", async () => {
    await expectExchange(
      [
        ...IDENTIFY,
        ["TEMP, S40.0", "OK:TEMP, S40.0"],
        ["MODE?", "STANDBY"],
        ["MODE, CONSTANT", "OK:MODE, CONSTANT"],
        ["TEMP, S-20.5", "OK:TEMP, S-20.5"],
        ["MODE?", "CONSTANT"],
        ["MODE, STANDBY", "OK:MODE, STANDBY"],
        ["MODE, STANDBY", "OK:MODE, STANDBY"],
      ],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        await dev.chamber.setSetpoint(40);
        await dev.chamber.setSetpoint(-20.5);
        await dev.chamber.toSafeState();
        await dev.chamber.toSafeState();
        await dev.close();
      },
      CRLF,
    );
  });

  it("takes OK: echoes and MODE? replies that differ only in spacing and case (issue 9)", async () => {
    await expectExchange(
      [
        ...IDENTIFY,
        ["TEMP, S28.0", "OK:TEMP,S28.0"],
        ["MODE?", "Standby"],
        ["MODE, CONSTANT", "ok:mode,constant"],
        ["MODE, STANDBY", "OK: Mode ,  Standby"],
      ],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        await dev.chamber.setSetpoint(28);
        await dev.chamber.toSafeState();
        await dev.close();
      },
      CRLF,
    );
  });

  it("refuses an OK: echo of another value or command, and NA: in any case, with typed errors", async () => {
    await expectExchange(
      [
        ...IDENTIFY,
        ["TEMP, S28.0", "OK:TEMP,S29.0"],
        ["MODE, STANDBY", "OK:MODE,CONSTANT"],
        ["TEMP, S28.0", "na: PROTECT ON"],
      ],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        // Refused: no MODE? or MODE, CONSTANT follows (the transcript fails on any extra command).
        expect(await rejection(dev.chamber.setSetpoint(28))).toMatchObject({
          code: "ESPEC_BAD_REPLY",
          command: "TEMP, S28.0",
          reply: "OK:TEMP,S29.0",
        });
        expect(await rejection(dev.chamber.toSafeState())).toMatchObject({
          code: "ESPEC_BAD_REPLY",
          reply: "OK:MODE,CONSTANT",
        });
        expect(await rejection(dev.chamber.setSetpoint(28))).toMatchObject({
          code: "ESPEC_COMMAND_REFUSED",
          deviceText: "PROTECT ON",
        });
        await dev.close();
      },
      CRLF,
    );
  });

  it("takes a TYPE? reply with blanks around its fields, at connect and when resynchronising (issue 12)", async () => {
    await expectExchange(
      [
        ["TYPE?", "T, T, S2, 90.0"],
        ["TEMP?", "23.0,25.0,100.0,-40.0"],
        { command: "TEMP?", reply: "11.1,25.0,100.0,-40.0", delayMs: 200 },
        ["TYPE?", " T ,S2 , 160.0 "],
        ["TEMP?", "22.2,25.0,100.0,-40.0"],
      ],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        expect(dev.chamber.ranges.temperatureC).toEqual([-40, 90]);
        expect((await rejection(dev.chamber.read())).code).toBe("SCPI_TIMEOUT");
        expect((await dev.chamber.read()).temperatureC).toBe(22.2);
        await dev.close();
      },
      CRLF,
    );
  });

  it("names what to change for an NA: text in any case or spacing (issue 12)", async () => {
    await expectExchange(
      [...IDENTIFY, ["TEMP, S40.0", "NA:Protect On"], ["TEMP, S40.0", "na: data  out of range"]],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        const protect = await rejection(dev.chamber.setSetpoint(40));
        expect(protect).toMatchObject({ code: "ESPEC_COMMAND_REFUSED", deviceText: "Protect On" });
        expect(protect.message).toContain("key protection");
        const range = await rejection(dev.chamber.setSetpoint(40));
        expect(range).toMatchObject({ code: "ESPEC_COMMAND_REFUSED", deviceText: "data  out of range" });
        expect(range.message).toContain("outside what the chamber allows");
        await dev.close();
      },
      CRLF,
    );
  });

  it("waits 3 s for a reply unless told otherwise, as Espec's own library does (issue 12)", async () => {
    await expectExchange(
      [...IDENTIFY, ["TEMP?"]],
      async (t) => {
        const dev = new EspecP300({ id: "tc3", driver: "espec/p300", transport: t.url });
        await dev.connect();
        expect(await rejection(dev.chamber.read())).toMatchObject({ code: "SCPI_TIMEOUT", timeoutMs: 3000 });
        await dev.close();
      },
      CRLF,
    );
  });

  it("turns NA: replies into typed errors carrying the controller's text", async () => {
    await expectExchange(
      [...IDENTIFY, ["TEMP, S40.0", "NA:PROTECT ON"]],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        const err = await rejection(dev.chamber.setSetpoint(40));
        expect(err).toMatchObject({
          code: "ESPEC_COMMAND_REFUSED",
          deviceText: "PROTECT ON",
          command: "TEMP, S40.0",
        });
        expect(err.message).toContain("key protection");
        await dev.close();
      },
      CRLF,
    );
  });

  it("refuses out-of-range set points before sending and rejects malformed replies", async () => {
    await expectExchange(
      [...IDENTIFY, ["TEMP?", "23.0,25.0"], ["TEMP, S30.0", "OK:TEMP, S31.0"]],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        expect((await rejection(dev.chamber.setSetpoint(100.5))).code).toBe("SETPOINT_OUT_OF_RANGE");
        expect((await rejection(dev.chamber.read())).code).toBe("ESPEC_BAD_REPLY");
        expect((await rejection(dev.chamber.setSetpoint(30))).code).toBe("ESPEC_BAD_REPLY");
        await dev.close();
      },
      CRLF,
    );
  });

  it("prefixes every command with the RS-485 address", async () => {
    await expectExchange(
      [
        ["3,TYPE?", "T,S2,160.0"],
        ["3,TEMP?", "23.0,25.0,100.0,-40.0"],
        ["3,MODE, STANDBY", "OK:MODE, STANDBY"],
      ],
      async (t) => {
        const dev = p300(t, { address: 3 });
        await dev.connect();
        await dev.chamber.toSafeState();
        await dev.close();
      },
      CRLF,
    );
  });

  it("never takes a late reply for the next answer: resynchronises on TYPE? after a timeout", async () => {
    await expectExchange(
      [
        ...IDENTIFY,
        { command: "TEMP?", reply: "11.1,25.0,100.0,-40.0", delayMs: 200 },
        ["TYPE?", "T,S2,160.0"],
        ["TEMP?", "22.2,25.0,100.0,-40.0"],
      ],
      async (t) => {
        const dev = p300(t);
        await dev.connect();
        expect((await rejection(dev.chamber.read())).code).toBe("SCPI_TIMEOUT");
        expect((await dev.chamber.read()).temperatureC).toBe(22.2);
        await dev.close();
      },
      CRLF,
    );
  });

  it("fails fast while unplugged, then re-identifies and restores STANDBY", async () => {
    await expectExchange(
      [...IDENTIFY, ["MODE, STANDBY", "OK:MODE, STANDBY"]],
      async (t) => {
        // A reply timeout under a loaded machine would resync with another TYPE?: not what this tests.
        const dev = p300(t, { timeoutMs: 2000 });
        await dev.connect();
        await dev.chamber.toSafeState();
        t.pair.unplug();
        await eventually(() => dev.linkState === "link-down", "the link to drop");
        expect((await rejection(dev.chamber.read())).code).toBe("CHAMBER_LINK_DOWN");
        t.extend([...IDENTIFY, ["MODE, STANDBY", "OK:MODE, STANDBY"]]);
        t.pair.plug();
        await eventually(() => dev.linkState === "ready", "re-identification");
        await dev.close();
      },
      CRLF,
    );
  });
});

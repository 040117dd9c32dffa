import { describe, expect, it } from "vitest";
import { assertSameInstrument } from "../../../drivers/common/same-instrument.js";
import { IdentityMismatchError, type InstrumentIdentity } from "../../../protocols/index.js";

const identity = (model: string, serial: string, firmware = "V2.01"): InstrumentIdentity => ({
  manufacturer: "EA Elektro-Automatik",
  model,
  serial,
  firmware,
  raw: `EA Elektro-Automatik, ${model}, ${serial}, ${firmware}`,
});

describe("assertSameInstrument", () => {
  const where = "*IDN? on serial:///dev/ttyACM0";
  const first = identity("PSB 10060-60", "2216440001");

  it("accepts anything when no instrument was seen at connect yet", () => {
    expect(() => assertSameInstrument(undefined, identity("IT-M3412", "123"), where)).not.toThrow();
  });

  it("accepts the same model and serial, even with other firmware or reply formatting", () => {
    const upgraded = { ...identity("PSB 10060-60", "2216440001", "V3.00"), raw: "whatever the reply said" };
    expect(() => assertSameInstrument(first, upgraded, where)).not.toThrow();
  });

  it("throws IDENTITY_MISMATCH for another serial, naming the expected instrument, the reply and where", () => {
    const swapped = identity("PSB 10060-60", "2216440002");
    let err: unknown;
    try {
      assertSameInstrument(first, swapped, where);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdentityMismatchError);
    const mismatch = err as IdentityMismatchError;
    expect(mismatch.code).toBe("IDENTITY_MISMATCH");
    expect(mismatch.expected).toBe("PSB 10060-60 serial 2216440001");
    expect(mismatch.found).toBe(swapped.raw);
    expect(mismatch.message).toBe(
      `Expected PSB 10060-60 serial 2216440001 but ${where} answered "${swapped.raw}"; check that the ` +
        "transport URL points at the right instrument, or configure the driver that matches it",
    );
  });

  it("throws for another model with the same serial", () => {
    expect(() => assertSameInstrument(first, identity("PSB 10080-60", "2216440001"), where)).toThrow(
      IdentityMismatchError,
    );
  });
});

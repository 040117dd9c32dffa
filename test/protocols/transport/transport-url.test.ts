import { describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { parseTransportUrl } from "../../../protocols/transport/transport-url.js";

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (!hasErrorCode(err, "TRANSPORT_URL_INVALID")) throw err;
    return err;
  }
  throw new Error("expected TRANSPORT_URL_INVALID");
}

describe("parseTransportUrl", () => {
  it("reads every serial setting", () => {
    const spec = parseTransportUrl(
      "serial:///dev/serial/by-id/usb-EA_PSB_10080-60-if00?baud=19200&parity=even&dataBits=7&stopBits=2",
    );
    expect(spec).toMatchObject({
      kind: "serial",
      path: "/dev/serial/by-id/usb-EA_PSB_10080-60-if00",
      baudRate: 19200,
      parity: "even",
      dataBits: 7,
      stopBits: 2,
      rtscts: false,
    });
    expect(spec.url).toBe(
      "serial:///dev/serial/by-id/usb-EA_PSB_10080-60-if00?baud=19200&parity=even&dataBits=7&stopBits=2",
    );
  });

  it("defaults to 8N1 and passes the unit id through to the device", () => {
    const spec = parseTransportUrl("serial:///dev/ttyUSB1?baud=19200&unit=3");
    expect(spec).toMatchObject({ parity: "none", dataBits: 8, stopBits: 1, deviceParams: { unit: "3" } });
    expect(spec.url).toBe("serial:///dev/ttyUSB1?baud=19200&parity=none&dataBits=8&stopBits=1&unit=3");
  });

  it("accepts parameter names in any case", () => {
    const spec = parseTransportUrl("serial:///dev/ttyS0?BAUD=9600&databits=8&Parity=O");
    expect(spec).toMatchObject({ baudRate: 9600, parity: "odd" });
  });

  it("says to add a baud rate", () => {
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0")).message).toMatch(/add \?baud=/);
  });

  it("says to use three slashes when the path was read as a host", () => {
    expect(errorOf(() => parseTransportUrl("serial://dev/ttyUSB0?baud=9600")).message).toContain(
      "serial:///dev/ttyUSB0",
    );
  });

  it("suggests the right name for a misspelt parameter", () => {
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baudrate=9600")).message).toContain(
      'write "baud" instead',
    );
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baud=9600&foo=1")).message).toMatch(
      /unknown parameter "foo".*allowed: baud, parity, dataBits, stopBits, rtscts, unit/,
    );
  });

  it("rejects impossible values and says what is allowed", () => {
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baud=fast")).message).toMatch(
      /positive integer/,
    );
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baud=9600&parity=x")).message).toMatch(
      /none, even, odd, mark, space/,
    );
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baud=9600&stopBits=3")).message).toMatch(
      /1, 1\.5 or 2/,
    );
    expect(errorOf(() => parseTransportUrl("serial:///dev/ttyUSB0?baud=9600&baud=19200")).message).toMatch(
      /given twice/,
    );
  });

  it("turns a bare path into a suggested URL", () => {
    expect(errorOf(() => parseTransportUrl("/dev/ttyUSB0")).message).toContain(
      "serial:///dev/ttyUSB0?baud=9600",
    );
  });

  it("reads tcp URLs and insists on a port", () => {
    expect(parseTransportUrl("tcp://127.0.0.1:502")).toMatchObject({
      kind: "tcp",
      host: "127.0.0.1",
      port: 502,
    });
    expect(parseTransportUrl("tcp://[::1]:5025")).toMatchObject({ host: "::1", port: 5025 });
    expect(errorOf(() => parseTransportUrl("tcp://10.0.0.5")).message).toMatch(
      /missing port; write tcp:\/\/10\.0\.0\.5:<port>/,
    );
    expect(errorOf(() => parseTransportUrl("tcp://10.0.0.5:502?baud=9600")).message).toMatch(
      /unknown parameter "baud"/,
    );
  });

  it("reads memory URLs and rejects other schemes", () => {
    expect(parseTransportUrl("memory://psb1")).toMatchObject({ kind: "memory", name: "psb1" });
    expect(errorOf(() => parseTransportUrl("udp://1.2.3.4:502")).message).toMatch(
      /use serial:\/\/, tcp:\/\/ or memory:\/\//,
    );
  });
});

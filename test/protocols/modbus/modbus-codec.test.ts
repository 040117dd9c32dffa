import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc16 } from "../../../protocols/modbus/crc16.js";
import {
  decodeRtuRequest,
  decodeRtuResponse,
  decodeTcpRequest,
  decodeTcpResponse,
  encodeRtuFrame,
  encodeRtuRequest,
  encodeRtuResponse,
  encodeTcpRequest,
  encodeTcpResponse,
} from "../../../protocols/modbus/modbus-frames.js";
import {
  decodeRequestPdu,
  decodeResponsePdu,
  describeRequest,
  encodeRequestPdu,
  encodeResponsePdu,
  type ModbusRequest,
  type ModbusResponse,
  responseMismatch,
} from "../../../protocols/modbus/modbus-pdu.js";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

describe("CRC-16", () => {
  it("matches the published vectors", () => {
    // CRC-16/MODBUS catalogue check value.
    expect(crc16(Buffer.from("123456789"))).toBe(0x4b37);
    // MODBUS over serial line V1.02, 6.2.2: frame 02 07 carries CRC 0x1241, sent low byte first (41 12).
    expect(crc16(hex("02 07"))).toBe(0x1241);
    expect(encodeRtuFrame(0x02, hex("07")).toString("hex")).toBe("02074112");
    // Widely quoted request frames.
    expect(encodeRtuFrame(1, hex("03 0000 000A")).toString("hex")).toBe("01030000000ac5cd");
    expect(encodeRtuFrame(0x11, hex("03 006B 0003")).toString("hex")).toBe("1103006b00037687");
  });

  it("agrees with modbus-serial's independent implementation on arbitrary bytes", () => {
    const require = createRequire(import.meta.url);
    const theirs = require("modbus-serial/utils/crc16") as (b: Buffer) => number;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        expect(crc16(bytes)).toBe(theirs(Buffer.from(bytes)));
      }),
      { numRuns: 300 },
    );
  });
});

// PDU examples of the MODBUS Application Protocol Specification V1.1b3, section 6.
const SPEC_EXAMPLES: Array<{
  name: string;
  request: [string, ModbusRequest];
  response: [string, ModbusResponse];
}> = [
  {
    name: "FC01 read coils 20-38",
    request: ["01 0013 0013", { functionCode: 1, address: 0x13, quantity: 19 }],
    response: [
      "01 03 CD 6B 05",
      {
        functionCode: 1,
        bits: [0xcd, 0x6b, 0x05].flatMap((byte) =>
          Array.from({ length: 8 }, (_, i) => ((byte >> i) & 1) === 1),
        ),
      },
    ],
  },
  {
    name: "FC03 read holding registers 108-110",
    request: ["03 006B 0003", { functionCode: 3, address: 0x6b, quantity: 3 }],
    response: ["03 06 022B 0000 0064", { functionCode: 3, values: [0x022b, 0, 0x64] }],
  },
  {
    name: "FC04 read input register 9",
    request: ["04 0008 0001", { functionCode: 4, address: 8, quantity: 1 }],
    response: ["04 02 000A", { functionCode: 4, values: [10] }],
  },
  {
    name: "FC05 write coil 173 on",
    request: ["05 00AC FF00", { functionCode: 5, address: 0xac, value: true }],
    response: ["05 00AC FF00", { functionCode: 5, address: 0xac, value: true }],
  },
  {
    name: "FC06 write register 2",
    request: ["06 0001 0003", { functionCode: 6, address: 1, value: 3 }],
    response: ["06 0001 0003", { functionCode: 6, address: 1, value: 3 }],
  },
  {
    name: "FC15 write 10 coils from 20",
    request: [
      "0F 0013 000A 02 CD 01",
      {
        functionCode: 15,
        address: 0x13,
        values: [true, false, true, true, false, false, true, true, true, false],
      },
    ],
    response: ["0F 0013 000A", { functionCode: 15, address: 0x13, quantity: 10 }],
  },
  {
    name: "FC16 write 2 registers from 2",
    request: ["10 0001 0002 04 000A 0102", { functionCode: 16, address: 1, values: [0x000a, 0x0102] }],
    response: ["10 0001 0002", { functionCode: 16, address: 1, quantity: 2 }],
  },
];

describe("PDU codec", () => {
  for (const example of SPEC_EXAMPLES) {
    it(`encodes and decodes the spec example: ${example.name}`, () => {
      const [requestHex, request] = example.request;
      const [responseHex, response] = example.response;
      expect(encodeRequestPdu(request).toString("hex")).toBe(hex(requestHex).toString("hex"));
      expect(decodeRequestPdu(hex(requestHex))).toEqual(request);
      expect(decodeResponsePdu(hex(responseHex))).toEqual(response);
      expect(encodeResponsePdu(response).toString("hex")).toBe(hex(responseHex).toString("hex"));
      expect(responseMismatch(request, response)).toBeUndefined();
    });
  }

  it("encodes and decodes exception responses", () => {
    expect(encodeResponsePdu({ functionCode: 3, exceptionCode: 2 }).toString("hex")).toBe("8302");
    expect(decodeResponsePdu(hex("81 02"))).toEqual({ functionCode: 1, exceptionCode: 2 });
  });

  it("refuses what the protocol cannot carry", () => {
    expect(() => encodeRequestPdu({ functionCode: 3, address: 0, quantity: 126 })).toThrow(
      /quantity 126 outside 1\.\.125/,
    );
    expect(() => encodeRequestPdu({ functionCode: 6, address: 0, value: -1 })).toThrow(/int16/);
    expect(() => encodeRequestPdu({ functionCode: 3, address: 65535, quantity: 2 })).toThrow(/runs past/);
    expect(() => encodeRequestPdu({ functionCode: 16, address: 0, values: [] })).toThrow(/quantity 0/);
  });

  it("tells a server which exception a malformed request deserves", () => {
    const codes = [
      hex("2B 0E 01 00"),
      hex("03 0000 0000"),
      hex("05 0001 1234"),
      hex("10 0000 0002 03 000100"),
    ].map((pdu) => {
      try {
        decodeRequestPdu(pdu);
      } catch (err) {
        return (err as { exceptionCode?: number }).exceptionCode;
      }
      return undefined;
    });
    expect(codes).toEqual([1, 3, 3, 3]);
  });

  it("spots replies that do not answer the request", () => {
    const read: ModbusRequest = { functionCode: 3, address: 100, quantity: 2 };
    expect(responseMismatch(read, { functionCode: 3, values: [1] })).toMatch(
      /1 registers for a request of 2/,
    );
    expect(responseMismatch(read, { functionCode: 4, values: [1, 2] })).toMatch(
      /function 04 answers a function 03/,
    );
    expect(
      responseMismatch({ functionCode: 6, address: 1, value: 5 }, { functionCode: 6, address: 1, value: 6 }),
    ).toMatch(/echo/);
    expect(responseMismatch(read, { functionCode: 3, exceptionCode: 2 })).toBeUndefined();
  });

  it("names requests the way timeouts quote them", () => {
    expect(describeRequest(1, { functionCode: 3, address: 100, quantity: 1 })).toBe(
      "[unit=1 fc=03 addr=100 n=1]",
    );
    expect(describeRequest(7, { functionCode: 16, address: 2782, values: [0, 0x41c8] })).toBe(
      "[unit=7 fc=16 addr=2782 n=2]",
    );
    expect(describeRequest(2, { functionCode: 5, address: 405, value: true })).toBe(
      "[unit=2 fc=05 addr=405 value=on]",
    );
  });
});

const requestArb: fc.Arbitrary<ModbusRequest> = fc.oneof(
  fc.record({
    functionCode: fc.constantFrom(1 as const, 2 as const),
    address: fc.integer({ min: 0, max: 60000 }),
    quantity: fc.integer({ min: 1, max: 2000 }),
  }),
  fc.record({
    functionCode: fc.constantFrom(3 as const, 4 as const),
    address: fc.integer({ min: 0, max: 65000 }),
    quantity: fc.integer({ min: 1, max: 125 }),
  }),
  fc.record({
    functionCode: fc.constant(5 as const),
    address: fc.integer({ min: 0, max: 65535 }),
    value: fc.boolean(),
  }),
  fc.record({
    functionCode: fc.constant(6 as const),
    address: fc.integer({ min: 0, max: 65535 }),
    value: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    functionCode: fc.constant(15 as const),
    address: fc.integer({ min: 0, max: 60000 }),
    values: fc.array(fc.boolean(), { minLength: 1, maxLength: 1968 }),
  }),
  fc.record({
    functionCode: fc.constant(16 as const),
    address: fc.integer({ min: 0, max: 65000 }),
    values: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 123 }),
  }),
);

const responseArb: fc.Arbitrary<ModbusResponse> = fc.oneof(
  fc.record({
    functionCode: fc.constantFrom(1 as const, 2 as const),
    bits: fc
      .integer({ min: 1, max: 250 })
      .chain((bytes) => fc.array(fc.boolean(), { minLength: bytes * 8, maxLength: bytes * 8 })),
  }),
  fc.record({
    functionCode: fc.constantFrom(3 as const, 4 as const),
    values: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 125 }),
  }),
  fc.record({
    functionCode: fc.constant(5 as const),
    address: fc.integer({ min: 0, max: 65535 }),
    value: fc.boolean(),
  }),
  fc.record({
    functionCode: fc.constant(6 as const),
    address: fc.integer({ min: 0, max: 65535 }),
    value: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    functionCode: fc.constantFrom(15 as const, 16 as const),
    address: fc.integer({ min: 0, max: 65535 }),
    quantity: fc.integer({ min: 1, max: 1968 }),
  }),
  fc.record({
    functionCode: fc.integer({ min: 1, max: 127 }),
    exceptionCode: fc.integer({ min: 1, max: 11 }),
  }),
);

const unitArb = fc.integer({ min: 0, max: 247 });

describe("RTU framing", () => {
  it("round-trips every request and response, and returns null for every incomplete prefix", () => {
    fc.assert(
      fc.property(unitArb, requestArb, responseArb, (unit, request, response) => {
        const requestFrame = encodeRtuRequest(unit, request);
        expect(decodeRtuRequest(requestFrame)).toEqual({
          ok: true,
          frame: { unit, pdu: request },
          length: requestFrame.length,
        });
        const responseFrame = encodeRtuResponse(unit, response);
        expect(decodeRtuResponse(responseFrame)).toEqual({
          ok: true,
          frame: { unit, pdu: response },
          length: responseFrame.length,
        });
        for (const cut of [1, 2, 3, 7, requestFrame.length - 1]) {
          if (cut < requestFrame.length) expect(decodeRtuRequest(requestFrame.subarray(0, cut))).toBeNull();
        }
        for (const cut of [1, 2, 4, responseFrame.length - 1]) {
          if (cut < responseFrame.length)
            expect(decodeRtuResponse(responseFrame.subarray(0, cut))).toBeNull();
        }
      }),
      { numRuns: 500 },
    );
  });

  it("decodes back-to-back frames one at a time", () => {
    const a = encodeRtuResponse(1, { functionCode: 3, values: [1, 2] });
    const b = encodeRtuResponse(2, { functionCode: 6, address: 300, value: 250 });
    const stream = Buffer.concat([a, b]);
    const first = decodeRtuResponse(stream);
    expect(first).toMatchObject({ ok: true, frame: { unit: 1 }, length: a.length });
    const second = decodeRtuResponse(stream.subarray(first!.length));
    expect(second).toMatchObject({ ok: true, frame: { unit: 2, pdu: { address: 300, value: 250 } } });
  });

  it("reports a bad CRC and consumes the frame", () => {
    const frame = encodeRtuResponse(1, { functionCode: 3, values: [42] });
    frame[frame.length - 1]! ^= 0xff;
    const result = decodeRtuResponse(frame);
    expect(result?.ok).toBe(false);
    expect(result?.length).toBe(frame.length);
    if (result && !result.ok) {
      expect(result.error.code).toBe("MODBUS_CRC_ERROR");
      expect(result.error.message).toMatch(
        /CRC error: frame carries 0x[0-9A-F]{4}, contents give 0x[0-9A-F]{4}/,
      );
    }
  });

  it("flags an unsupported function code with the unit and exception 1", () => {
    const frame = encodeRtuFrame(9, hex("2B 0E 01 00"));
    const result = decodeRtuRequest(frame);
    expect(result).toMatchObject({ ok: false, length: frame.length });
    if (result && !result.ok)
      expect(result.error).toMatchObject({
        code: "MODBUS_BAD_FRAME",
        details: { unit: 9, functionCode: 0x2b, exceptionCode: 1 },
      });
  });
});

describe("TCP framing", () => {
  it("writes the MBAP header", () => {
    expect(encodeTcpRequest(1, 1, { functionCode: 3, address: 0x6b, quantity: 3 }).toString("hex")).toBe(
      "000100000006" + "01" + "03006b0003",
    );
  });

  it("round-trips requests and responses and waits for the whole ADU", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 255 }),
        requestArb,
        responseArb,
        (tid, unit, request, response) => {
          const requestAdu = encodeTcpRequest(tid, unit, request);
          expect(decodeTcpRequest(requestAdu)).toEqual({
            ok: true,
            frame: { transactionId: tid, unit, pdu: request },
            length: requestAdu.length,
          });
          const responseAdu = encodeTcpResponse(tid, unit, response);
          expect(decodeTcpResponse(responseAdu)).toMatchObject({
            ok: true,
            frame: { transactionId: tid, pdu: response },
          });
          expect(decodeTcpResponse(responseAdu.subarray(0, responseAdu.length - 1))).toBeNull();
          expect(decodeTcpResponse(responseAdu.subarray(0, 6))).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a foreign protocol id", () => {
    const result = decodeTcpResponse(hex("0001 0001 0003 01 03 00"));
    expect(result).toMatchObject({ ok: false, length: 9 });
  });
});

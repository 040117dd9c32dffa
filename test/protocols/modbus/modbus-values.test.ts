import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fromFloat32,
  fromInt16,
  fromInt32,
  toFloat32,
  toInt16,
  toInt32,
  toUint32,
} from "../../../protocols/modbus/modbus-values.js";

describe("register conversions", () => {
  it("reads and writes signed 16-bit values (Watlow F4 temperatures)", () => {
    expect(toInt16(0xffff)).toBe(-1);
    expect(toInt16(0xff38)).toBe(-200); // -20.0 °C at one decimal
    expect(toInt16(0x7fff)).toBe(32767);
    expect(fromInt16(-200)).toBe(0xff38);
    expect(() => fromInt16(40000)).toThrow(/-32768\.\.32767/);
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (v) => {
        expect(toInt16(fromInt16(v))).toBe(v);
      }),
    );
  });

  it("places float words in the requested order", () => {
    // 25.0f = 0x41C80000
    expect(fromFloat32(25, "high-first")).toEqual([0x41c8, 0x0000]);
    expect(fromFloat32(25, "low-first")).toEqual([0x0000, 0x41c8]);
    expect(toFloat32([0x0000, 0x41c8], "low-first")).toBe(25);
    expect(toFloat32([0x41c8, 0x0000], "high-first")).toBe(25);
    // -40.5f = 0xC2220000
    expect(toFloat32([0x0000, 0xc222], "low-first")).toBe(-40.5);
    fc.assert(
      fc.property(
        fc.float({ noNaN: true }),
        fc.constantFrom("high-first" as const, "low-first" as const),
        (v, order) => {
          expect(toFloat32(fromFloat32(v, order), order)).toBe(Math.fround(v));
        },
      ),
    );
  });

  it("reads and writes 32-bit integers in either word order", () => {
    expect(fromInt32(0x12345678, "high-first")).toEqual([0x1234, 0x5678]);
    expect(fromInt32(0x12345678, "low-first")).toEqual([0x5678, 0x1234]);
    expect(toInt32([0xffff, 0xfffe], "high-first")).toBe(-2);
    expect(toUint32([0xfffe, 0xffff], "low-first")).toBe(0xfffffffe);
    expect(() => toFloat32([1], "high-first")).toThrow(/2 registers/);
  });
});

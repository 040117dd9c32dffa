// CRC-16 as specified in "MODBUS over serial line" V1.02, 6.2.2: initial 0xFFFF, polynomial 0xA001
// (0x8005 reflected), no final XOR; appended to the frame low byte first.

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
})();

/** Returns the Modbus CRC-16 of `bytes` (as a number; the frame carries it low byte first). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ TABLE[(crc ^ byte) & 0xff]!;
  return crc;
}

/**
 * Device alarms of the EA PSB 10000 as its SCPI interface reports them: in the condition register of
 * `STATus:QUEStionable` [PG SCPI §5.4.2 "Status registers"], not in the error queue. An alarm stays
 * set there until acknowledged, and reading the error queue (`SYST:ERR?`, `SYST:ERR:ALL?`) is the
 * acknowledgement of every alarm whose cause is gone [PG SCPI §5.4.2]; OT alone clears itself once
 * the device has cooled down.
 *
 * Sources: EA "Programming Guide ModBus & SCPI" (PGMBEN) REV 17, §5.4.2, as quoted in
 * ami3go/RobotFrameworks_hw_drivers (rf_ea_ps9000t task document, "Status registers"); that names the
 * alarms the register carries (OVP, OCP, OPP, OT, PF, MSS) but not their bit numbers. The bit numbers
 * below are those of a public third-party PSB 10000 Python driver (status subsystem, "register model
 * of the programming guide") — UNVERIFIED against the guide: check them on the instrument. The driver
 * names the bits it knows and always quotes the raw register.
 */

/** Alarm bits of `STAT:QUES:COND?` (bit number → alarm name). */
export const EA_QUESTIONABLE_ALARMS: ReadonlyArray<readonly [name: string, bit: number]> = [
  ["OVP", 0],
  ["OCP", 1],
  ["OPP", 2],
  ["OT", 3],
  ["PF", 13],
  ["MSP", 14],
];

/** The query that reads the alarm state without acknowledging it [PG SCPI §5.4.2]. */
export const EA_ALARM_QUERY = "STAT:QUES:COND?";

/** Returns the names of the alarms set in a `STAT:QUES:COND?` value (none: []). */
export function eaScpiAlarmNames(condition: number): string[] {
  return EA_QUESTIONABLE_ALARMS.filter(([, bit]) => (condition & (1 << bit)) !== 0).map(([name]) => name);
}

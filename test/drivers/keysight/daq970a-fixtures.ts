import type { DriverContext, LinkEvent } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import {
  type KeysightDaq970aEmulator,
  startKeysightDaq970aEmulator,
} from "../../../drivers/emulators/keysight-daq970a-emulator.js";
import { KeysightDaq970a } from "../../../drivers/keysight/keysight-daq970a.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/index.js";

/** The inputs the tests configure: two type-K thermocouples and a type T. */
export const INPUTS = { "101": "K", "102": "T", "105": "K" };

let pairs = 0;

export interface DaqRig {
  emulator: KeysightDaq970aEmulator;
  daq: KeysightDaq970a;
  links: LinkEvent[];
  pair?: MemoryPair;
  stop(): Promise<void>;
}

/** Starts the emulator on `listen` (a memory pair when omitted) and a driver on `url`; nothing connected yet. */
export async function startRig(
  options: {
    emulator?: Record<string, unknown>;
    driver?: Record<string, unknown>;
    listen?: string;
    url?: (emulatorUrl: string) => string;
  } = {},
): Promise<DaqRig> {
  let pair: MemoryPair | undefined;
  let url: string;
  let emulator: KeysightDaq970aEmulator;
  if (options.listen === undefined) {
    const name = `daq970a-${process.pid}-${++pairs}`;
    pair = createMemoryPair({ name });
    emulator = await startKeysightDaq970aEmulator({ listen: pair.device, options: options.emulator ?? {} });
    url = `memory://${name}`;
  } else {
    emulator = await startKeysightDaq970aEmulator({
      listen: options.listen,
      options: options.emulator ?? {},
    });
    url = options.url ? options.url(emulator.listen) : emulator.listen;
  }
  const links: LinkEvent[] = [];
  const context: DriverContext = {
    clock: new VirtualClock(),
    chamberOfChannel: () => undefined,
    reportLink: (_id, event) => links.push(event),
  };
  // Generous timeouts: on a busy machine the emulator answers late, not wrongly.
  const daq = new KeysightDaq970a(
    {
      id: "daq1",
      driver: "keysight/daq970a",
      transport: url,
      options: { inputs: INPUTS, timeoutMs: 2000, retryMs: 50, ...options.driver },
    },
    context,
  );
  return {
    emulator,
    daq,
    links,
    ...(pair ? { pair } : {}),
    stop: async () => {
      await daq.close().catch(() => undefined);
      await emulator.stop();
      await pair?.dispose();
    },
  };
}

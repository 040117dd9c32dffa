import type {
  Chamber,
  ChamberReading,
  CyclerChannel,
  CyclerReading,
  Device,
  LinkEvent,
} from "../../drivers/capabilities.js";
import type { Clock } from "../../drivers/clock.js";
import { createDevice, driverInfo } from "../../drivers/registry.js";
import { SHUTDOWN_STEP_MS, settledWithin } from "../bounded-wait.js";
import type { BenchConfig, SensorRef } from "../config/load-config.js";
import type { ChamberBarrier, ChamberLink, RunDefinition, RunEngineListener } from "../engine/run-engine.js";
import { RunEngine } from "../engine/run-engine.js";
import { ChamberSupervisor, hotterThanCells } from "../safety/chamber-supervisor.js";
import { safetyEnvelope, type Violation } from "../safety/safety-envelope.js";
import { concernsChamber, SafetySupervisor } from "../safety/supervisor.js";
import { defaultWatchdogMs, Watchdog } from "../safety/watchdog.js";
import { Poller, type PollerStats } from "../sampling/poller.js";
import type { ChannelSample } from "../sampling/sample.js";
import {
  ChamberLatchedError,
  ChamberOwnedError,
  ChamberSetpointRefusedError,
  ChannelBusyError,
  SpeedNotAllowedError,
  UnknownChamberError,
  UnknownChannelError,
} from "./bench-errors.js";
import { type DeviceLinkStatus, DeviceLinks } from "./device-links.js";
import { assertSensorsAvailable, SensorScans, type SensorTemperature } from "./sensor-scans.js";

export interface ChannelSlot {
  id: string;
  device: Device;
  channel: CyclerChannel;
  chamberId: string | undefined;
  latest: ChannelSample | undefined;
  run: RunEngine | undefined;
  readErrors: number;
  /** The temperature sensors on the channel's cell (configuration); empty: the channel's own reading. */
  sensors: readonly SensorRef[];
}

export interface ChamberSlot {
  id: string;
  device: Device;
  chamber: Chamber;
  channels: string[];
  latest: (ChamberReading & { tMonoMs: number; tWallMs: number }) | undefined;
  /** Run (or batch) that owns the set point (has chamber steps), if any. */
  owner: string | undefined;
  /** The batch that owns the chamber: its runs share the set point and meet at each chamber step. */
  batch: ChamberBatch | undefined;
  readErrors: number;
  /** Why the chamber was put into safe state by a safety fault; set points are refused until cleared. */
  latched: string | undefined;
  /** Extra sensors in the chamber, as of its latest reading. */
  sensors: SensorTemperature | undefined;
}

/** A batch's hold on a chamber (Bench.reserveChamber): one profile, several runs, one set point. */
export interface ChamberBatch {
  id: string;
  /** The ids of the batch's runs (known before they attach). */
  runs: ReadonlySet<string>;
  /** The profile's steps (the set points the batch will ask for). */
  steps: RunDefinition["profile"]["steps"];
  barrier: ChamberBarrier;
}

export interface BenchEvents {
  channelSample?(slot: ChannelSlot, sample: ChannelSample): void;
  chamberSample?(slot: ChamberSlot): void;
  error?(source: string, err: unknown): void;
  lateness?(poller: string, ms: number): void;
  /** A real instrument's link dropped, came back unusable, or was restored. */
  link?(deviceId: string, event: LinkEvent, status: DeviceLinkStatus): void;
}

/**
 * The instruments of one bench: devices from the registry, their channels and chambers, and one
 * poller per device. Samples go from each poller to the run on that channel.
 */
export class Bench {
  readonly channels = new Map<string, ChannelSlot>();
  readonly chambers = new Map<string, ChamberSlot>();
  private readonly pollers: Poller[] = [];
  private started = false;
  private readonly watchdog: Watchdog;
  private readonly chamberSupervisor = new ChamberSupervisor();
  /**
   * Channels whose resting cell is in violation, with the kind last acted on: reported once per
   * episode and kind. A new kind is acted on: a sensor lost on a cell whose output already drives
   * current after its run (an idle-current episode) still puts its chamber into safe state.
   */
  private readonly violating = new Map<string, Violation["kind"]>();
  /** Decides on every sample and every chamber set point (the bench carries its decisions out). */
  readonly supervisor = new SafetySupervisor();
  /** The wall clock as each source last read it (backwards steps are reported once). */
  private readonly wallSeen = new Map<string, number>();
  /** The latest scan of each sensor device; a scan older than the watchdog time is stale. */
  private readonly sensorScans: SensorScans;
  /** Scans under way, by sensor device: a channel sampled meanwhile waits for them (bounded). */
  private readonly scansInFlight = new Map<string, Promise<void>>();

  private constructor(
    readonly config: BenchConfig,
    readonly clock: Clock,
    readonly devices: Device[],
    private readonly events: BenchEvents,
    /** Link state of every device (real instruments report drops and reconnects). */
    readonly links: DeviceLinks,
  ) {
    const watchdogMs = config.watchdogMs ?? defaultWatchdogMs(config.samplingPeriodMs);
    this.watchdog = new Watchdog(watchdogMs);
    this.sensorScans = new SensorScans(watchdogMs);
    const chamberOf = chamberIndex(config);
    for (const device of devices) {
      for (const channel of device.channels) {
        this.channels.set(channel.id, {
          id: channel.id,
          device,
          channel,
          chamberId: chamberOf.get(channel.id),
          latest: undefined,
          run: undefined,
          readErrors: 0,
          sensors: config.cellSensors?.[channel.id] ?? [],
        });
      }
    }
    for (const c of config.chambers) {
      const device = devices.find((d) => d.id === c.device);
      if (!device?.chamber) throw new Error(`chambers: device "${c.device}" is not a chamber controller`);
      this.chambers.set(c.id, {
        id: c.id,
        device,
        chamber: device.chamber,
        channels: c.channels,
        latest: undefined,
        owner: undefined,
        batch: undefined,
        readErrors: 0,
        latched: undefined,
        sensors: undefined,
      });
    }
  }

  /** Creates every device, refusing a speed other than 1 on real hardware, and connects them. */
  static async open(config: BenchConfig, clock: Clock, events: BenchEvents = {}): Promise<Bench> {
    const real = config.devices.filter((d) => !driverInfo(d.driver).simulated).map((d) => d.id);
    if (clock.speed !== 1 && real.length > 0) throw new SpeedNotAllowedError(clock.speed, real);
    // One context for the whole bench: simulated devices share their world through it, and a
    // channel's chamber is named by the id of the device that controls it.
    const chamberDeviceOf = new Map<string, string>();
    for (const c of config.chambers) for (const ch of c.channels) chamberDeviceOf.set(ch, c.device);
    const links = new DeviceLinks(clock, (id, event, status) => events.link?.(id, event, status));
    const context = {
      clock,
      chamberOfChannel: (ch: string) => chamberDeviceOf.get(ch),
      reportLink: links.report,
    };
    const devices = config.devices.map((d) => createDevice(d, context));
    assertSensorsAvailable(
      [
        ...Object.entries(config.cellSensors ?? {}).map(([ch, sensors]) => ({
          where: `channel ${ch}`,
          sensors,
        })),
        ...config.chambers.map((c) => ({ where: `chamber ${c.id}`, sensors: c.sensors ?? [] })),
      ],
      devices,
    );
    const connected: Device[] = [];
    try {
      for (const device of devices) {
        await device.connect();
        connected.push(device);
      }
      const bench = new Bench(config, clock, devices, events, links);
      await bench.allSafe();
      // A first scan before any channel is sampled: cells must not fault for want of one.
      for (const device of devices) if (device.temperatureInputs) await bench.scanSensors(device);
      return bench;
    } catch (err) {
      await Promise.allSettled(connected.map((d) => d.close()));
      throw err;
    }
  }

  /**
   * Starts one poller per device, and the watchdog on a loop of its own: a device tick that never
   * returns cannot stop it. On a simulated bench its time is simulated (it counts ticks).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.clock.now();
    for (const id of [...this.channels.keys(), ...[...this.chambers.keys()].map(chamberKey)])
      this.watchdog.watch(id, now);
    const watchdog = new Poller({
      name: "watchdog",
      periodMs: this.config.samplingPeriodMs,
      clock: this.clock,
      tick: () => this.checkWatchdog(),
      onError: (err) => this.events.error?.("watchdog", err),
    });
    this.pollers.push(watchdog);
    watchdog.start();
    // Sensor devices first: within a period their scan starts before the channels it serves are read.
    const sensorsFirst = [...this.devices].sort(
      (a, b) => Number(b.temperatureInputs !== undefined) - Number(a.temperatureInputs !== undefined),
    );
    // Spread over the period rather than all due at once: on one thread, devices due together wait
    // for each other, and the last one's samples were taken late by the others' whole acquisition.
    const periodMs = this.config.samplingPeriodMs;
    for (const [i, device] of sensorsFirst.entries()) {
      const poller = new Poller({
        name: device.id,
        periodMs,
        phaseMs: (i * periodMs) / sensorsFirst.length,
        clock: this.clock,
        tick: () => this.poll(device),
        onError: (err) => this.events.error?.(device.id, err),
        onLateness: (ms) => this.events.lateness?.(device.id, ms),
      });
      this.pollers.push(poller);
      poller.start();
    }
  }

  /** Each sampling loop's (and the watchdog's) tick counts and lateness, by loop name. */
  pollerStats(): { name: string; stats: Readonly<PollerStats> }[] {
    return this.pollers.map((p) => ({ name: p.name, stats: { ...p.stats } }));
  }

  /** Stops sampling, puts every channel and chamber in safe state and closes the devices. */
  async shutdown(): Promise<void> {
    await this.bounded(
      "stopping the pollers",
      this.pollers.map((p) => p.stop()),
    );
    this.pollers.length = 0;
    const runs = [...this.channels.values()].flatMap((slot) =>
      slot.run && !slot.run.isTerminal ? [slot.run.interrupt("bench shut down")] : [],
    );
    await this.bounded("interrupting the runs", runs);
    await this.allSafe();
    await this.bounded(
      "closing the devices",
      this.devices.map((d) => d.close()),
    );
  }

  /** Waits for a shutdown step at most SHUTDOWN_STEP_MS: a hung instrument must not stop the others. */
  private async bounded(step: string, work: Promise<unknown>[]): Promise<void> {
    if (!(await settledWithin(work, SHUTDOWN_STEP_MS)))
      this.events.error?.(
        "shutdown",
        new Error(`${step} took over ${SHUTDOWN_STEP_MS} ms (a device is not answering); going on`),
      );
  }

  /** Puts every channel and chamber into safe state; reports (does not throw) individual failures. */
  async allSafe(): Promise<void> {
    const report = (source: string) => (err: unknown) => this.events.error?.(source, err);
    await this.bounded("putting every channel and chamber in safe state", [
      ...[...this.channels.values()].map((s) => s.channel.toSafeState().catch(report(s.id))),
      ...[...this.chambers.values()].map((s) => s.chamber.toSafeState().catch(report(s.id))),
    ]);
  }

  channel(id: string): ChannelSlot {
    const slot = this.channels.get(id);
    if (!slot) throw new UnknownChannelError(id, [...this.channels.keys()]);
    return slot;
  }

  /**
   * Attaches a run to a channel (not started yet). A profile with chamber steps takes ownership
   * of the channel's chamber; other runs in that chamber may still run profiles without them.
   */
  attachRun(channelId: string, run: RunDefinition, listener: RunEngineListener): RunEngine {
    const slot = this.channel(channelId);
    if (slot.run && !slot.run.isTerminal)
      throw new ChannelBusyError(channelId, slot.run.id, slot.run.currentState);
    const chamberSlot = slot.chamberId ? this.chambers.get(slot.chamberId) : undefined;
    const needsChamber = usesChamber(run.profile.steps);
    const batch = chamberSlot?.batch;
    const member = batch?.runs.has(run.id) === true;
    if (needsChamber && chamberSlot && batch && !member)
      throw new ChamberOwnedError(chamberSlot.id, `batch ${batch.id}`);
    if (needsChamber && !batch && chamberSlot?.owner) {
      const owner = [...this.channels.values()].find((s) => s.run?.id === chamberSlot.owner);
      if (owner?.run && !owner.run.isTerminal) throw new ChamberOwnedError(chamberSlot.id, chamberSlot.owner);
    }
    this.prepareToDrive(channelId);
    if (chamberSlot) {
      const refusal = this.chamberRefusesCell(chamberSlot, run);
      if (refusal) throw new ChamberSetpointRefusedError(refusal);
      const others = chamberSlot.channels.filter((id) => id !== channelId);
      for (const setpointC of chamberSetpoints(run.profile.steps)) {
        const refusal = this.supervisor.chamberSetpointRefusal(chamberSlot.id, setpointC, others);
        if (refusal) throw new ChamberSetpointRefusedError(refusal);
      }
    }
    this.watchCell(channelId, run);
    slot.channel.mountCell?.(run.cell);
    let link: ChamberLink | undefined;
    if (chamberSlot) {
      link = {
        chamber: chamberSlot.chamber,
        latest: () => chamberSlot.latest,
        refusal: (setpointC) =>
          chamberSlot.latched
            ? `chamber ${chamberSlot.id} is in safe state after a safety fault: ${chamberSlot.latched}`
            : this.supervisor.chamberSetpointRefusal(chamberSlot.id, setpointC, chamberSlot.channels),
        ...(member && batch ? { barrier: batch.barrier } : {}),
      };
      if (needsChamber && !member) chamberSlot.owner = run.id;
    }
    const gate = {
      refusal: (direction: "charge" | "discharge", temperatureC: number) =>
        this.supervisor.windowRefusal(channelId, direction, temperatureC),
      latest: () => slot.latest,
    };
    const engine = new RunEngine(
      run,
      slot.channel,
      this.clock,
      listener,
      needsChamber ? link : undefined,
      gate,
    );
    slot.run = engine;
    return engine;
  }

  /**
   * Why a cell may not go into a chamber that another run drives: the chamber's set point now, or
   * one its owner's profile will ask for, is outside the cell's temperature range.
   */
  private chamberRefusesCell(chamber: ChamberSlot, run: RunDefinition): string | undefined {
    const owner = [...this.channels.values()].find((s) => s.run?.id === chamber.owner)?.run;
    const driver = chamber.batch
      ? { name: `batch ${chamber.batch.id}`, steps: chamber.batch.steps }
      : owner?.isUnderway
        ? { name: `run ${owner.id}`, steps: owner.profileSteps }
        : undefined;
    if (!driver) return undefined;
    const cell = run.cell;
    // The range the supervisor will hold the cell to: its own, narrowed by the profile's safety.
    const [lo, hi] = safetyEnvelope(cell, run.profile.safety).temperatureC;
    const setpoints = [
      ...(chamber.latest ? [chamber.latest.setpointC] : []),
      ...chamberSetpoints(driver.steps),
    ];
    const bad = setpoints.find((c) => c < lo || c > hi);
    if (bad === undefined) return undefined;
    return (
      `chamber ${chamber.id} is driven by ${driver.name}, which holds or will set ${bad} °C, outside the ` +
      `${lo}..${hi} °C of cell ${cell.id} (${cell.chemistry}); use another chamber or wait for that run`
    );
  }

  /** Watches the cell a run puts on a channel (it stays watched until taken out: releaseCell). */
  watchCell(channelId: string, run: RunDefinition): void {
    this.supervisor.watch(channelId, run.cell, run.id, {
      ...(run.profile.safety ? { safety: run.profile.safety } : {}),
      temperatureRequired: run.temperatureOverride === undefined,
    });
  }

  /** The operator took the cell on `channelId` out of its chamber; refused while a run drives it. */
  releaseCell(channelId: string): void {
    const slot = this.channel(channelId);
    if (slot.run && !slot.run.isTerminal)
      throw new ChannelBusyError(channelId, slot.run.id, slot.run.currentState);
    this.supervisor.release(channelId);
  }

  /**
   * Before a run drives a channel (start or resume): throws when its chamber is latched in safe
   * state, and watches the channel and its chamber afresh, so that a source that went silent
   * before the run began trips the watchdog again, for this run, if it stays silent.
   */
  prepareToDrive(channelId: string): void {
    const chamberId = this.channel(channelId).chamberId;
    const chamber = chamberId ? this.chambers.get(chamberId) : undefined;
    if (chamber?.latched) throw new ChamberLatchedError(chamber.id, chamber.latched);
    const now = this.clock.now();
    this.watchdog.rearm(channelId, now);
    if (chamber) this.watchdog.rearm(chamberKey(chamber.id), now);
  }

  /**
   * A batch takes a chamber for its runs (which attach afterwards, as members). Refused while a run
   * under way or another batch owns it, or while it is latched in safe state.
   */
  reserveChamber(chamberId: string, batch: ChamberBatch): void {
    const slot = this.chambers.get(chamberId);
    if (!slot) throw new UnknownChamberError(chamberId, [...this.chambers.keys()]);
    if (slot.batch && slot.batch.id !== batch.id)
      throw new ChamberOwnedError(slot.id, `batch ${slot.batch.id}`);
    const owner = [...this.channels.values()].find((s) => s.run?.id === slot.owner)?.run;
    if (owner && !owner.isTerminal) throw new ChamberOwnedError(slot.id, `run ${owner.id}`);
    slot.batch = batch;
    slot.owner = batch.id;
  }

  /** The batch's runs have all ended: the chamber is free for others. */
  releaseChamber(chamberId: string, batchId: string): void {
    const slot = this.chambers.get(chamberId);
    if (slot?.batch?.id !== batchId) return;
    slot.batch = undefined;
    slot.owner = undefined;
  }

  /** Lifts a chamber's safety latch (the operator dealt with the cause). */
  clearChamber(chamberId: string): void {
    const slot = this.chambers.get(chamberId);
    if (!slot) throw new UnknownChamberError(chamberId, [...this.chambers.keys()]);
    slot.latched = undefined;
  }

  private async poll(device: Device): Promise<void> {
    if (device.temperatureInputs) await this.scanSensors(device);
    if (device.chamber) {
      for (const slot of this.chambers.values())
        if (slot.device === device) {
          await this.pollChamber(slot);
          break;
        }
    }
    // Each channel inline, not through an async method per channel: at 64 channels × 100 Hz its
    // frame and promise were the sampling thread's largest garbage after the records themselves.
    for (const channel of device.channels) {
      const slot = this.channels.get(channel.id) as ChannelSlot;
      // One channel's failure never costs the device's other channels their sample.
      try {
        // Stamped when the acquisition starts: a set point applied after this moment is not in the reading.
        const tMonoMs = this.clock.now();
        const tWallMs = this.stampWall(slot.id, slot.latest?.tWallMs);
        let r: CyclerReading;
        try {
          r = await slot.channel.read();
        } catch (err) {
          this.readFailed(slot, err);
          continue;
        }
        // Without sensors there is no scan to wait for, and the sample is built in one literal.
        const done =
          slot.sensors.length === 0
            ? this.acceptSample(slot, {
                channel: slot.id,
                tMonoMs,
                tWallMs,
                voltageV: r.voltageV,
                currentA: r.currentA,
                temperatureC: r.temperatureC,
              })
            : this.sampleWithSensors(slot, tMonoMs, tWallMs, r);
        if (done !== undefined) await done;
      } catch (err) {
        this.events.error?.(channel.id, err);
      }
    }
  }

  /** One scan of a sensor device; a failure is reported, and its inputs go stale (SensorScans). */
  private async scanSensors(device: Device): Promise<void> {
    const inputs = device.temperatureInputs;
    if (!inputs) return;
    const tMonoMs = this.clock.now();
    const scan = inputs.scan().then(
      (readings) => {
        this.sensorScans.record(device.id, tMonoMs, readings);
        return true;
      },
      (err: unknown) => {
        this.events.error?.(device.id, err);
        return false;
      },
    );
    this.scansInFlight.set(
      device.id,
      scan.then(() => undefined),
    );
    const recorded = await scan;
    this.scansInFlight.delete(device.id);
    if (!recorded) return;
    // A scan that finds a cell too hot or a sensor failed acts at once, not at the channel's next sample.
    for (const slot of this.channels.values())
      if (slot.sensors.some((sensor) => sensor.device === device.id))
        await this.superviseTemperature(slot).catch((err: unknown) => this.events.error?.(slot.id, err));
  }

  /**
   * Checks the channel's latest sample again with the cell temperature of a new scan, as if it were a
   * new sample (the run engine does not see it: its electrical values are not new).
   */
  private async superviseTemperature(slot: ChannelSlot): Promise<void> {
    const latest = slot.latest;
    if (!latest) return;
    const sample: ChannelSample = {
      ...latest,
      temperatureAgeMs: undefined,
      temperatureFault: undefined,
      temperaturesC: undefined,
      ...this.cellTemperature(slot.id, Number.NaN, this.clock.now()),
    };
    slot.latest = sample;
    await this.supervise(slot, sample);
  }

  /**
   * Waits for the scans under way of the devices measuring `channelId`'s cell, for at most half a
   * sampling period after `startMs`: a channel and its sensors are then read in the same period.
   */
  private async awaitScans(channelId: string, startMs: number): Promise<void> {
    const scans = (this.config.cellSensors?.[channelId] ?? []).flatMap(
      (s) => this.scansInFlight.get(s.device) ?? [],
    );
    if (scans.length === 0) return;
    const abort = new AbortController();
    await Promise.race([
      Promise.all(scans),
      this.clock.sleepUntil(startMs + this.config.samplingPeriodMs / 2, abort.signal).catch(() => undefined),
    ]);
    abort.abort();
  }

  /**
   * A channel without a fresh sample for the watchdog time is put into safe state and its run
   * faulted; a chamber that stops answering faults every run under way in it (DESIGN §6). A run
   * that a restart or shutdown interrupted drives nothing: it waits for resume or stop.
   */
  private async checkWatchdog(): Promise<void> {
    for (const { id, silentMs } of this.watchdog.check(this.clock.now())) {
      const seconds = (silentMs / 1000).toFixed(1);
      if (id.startsWith(CHAMBER_PREFIX)) {
        const chamber = this.chambers.get(id.slice(CHAMBER_PREFIX.length)) as ChamberSlot;
        this.events.error?.(
          chamber.id,
          new Error(`watchdog: no reading from chamber ${chamber.id} for ${seconds} s`),
        );
        for (const channelId of chamber.channels) {
          const slot = this.channels.get(channelId);
          if (slot?.run?.isUnderway)
            this.detach(
              slot.id,
              slot.run.fault(`chamber ${chamber.id} stopped answering (no reading for ${seconds} s)`),
            );
        }
        continue;
      }
      const slot = this.channels.get(id) as ChannelSlot;
      this.events.error?.(slot.id, new Error(`watchdog: no fresh sample from ${slot.id} for ${seconds} s`));
      if (slot.run?.isUnderway)
        this.detach(slot.id, slot.run.fault(`no fresh sample from ${slot.id} for ${seconds} s (watchdog)`));
      else this.detach(slot.id, slot.channel.toSafeState());
    }
  }

  /**
   * Lets an action of the watchdog finish on its own: a silent device may hang its safe-state call
   * too, and that must not stop the watchdog from getting to the other channels.
   */
  private detach(source: string, action: Promise<void>): void {
    void action.catch((err: unknown) => this.events.error?.(source, err));
  }

  private async pollChamber(slot: ChamberSlot): Promise<void> {
    try {
      const reading = await slot.chamber.read();
      const tWallMs = this.stampWall(chamberKey(slot.id), slot.latest?.tWallMs);
      slot.latest = { ...reading, tMonoMs: this.clock.now(), tWallMs };
      const sensors = this.config.chambers.find((c) => c.id === slot.id)?.sensors;
      slot.sensors = sensors ? this.sensorScans.temperatureOf(sensors, slot.latest.tMonoMs) : undefined;
      this.watchdog.fresh(chamberKey(slot.id), slot.latest.tMonoMs);
    } catch (err) {
      slot.readErrors++;
      this.events.error?.(`${slot.id}`, err);
      return;
    }
    this.report(slot.id, () => this.events.chamberSample?.(slot));
    await this.superviseChamber(slot);
  }

  /**
   * Faults every run under way in a chamber that left its band or never settled. A chamber hotter
   * than any cell inside allows (running or resting: every cell watched) also goes to safe state,
   * latched, and holds the runs in it.
   */
  private async superviseChamber(slot: ChamberSlot): Promise<void> {
    const reading = slot.latest;
    if (!reading) return;
    const cells = slot.channels.flatMap((id) => this.supervisor.cellOn(id) ?? []);
    const runs = slot.channels
      .map((id) => this.channels.get(id)?.run)
      .filter((run): run is RunEngine => run?.isUnderway === true);
    if (runs.length === 0 && cells.length === 0) return;
    const owned = runs.some((run) => run.id === slot.owner || slot.batch?.runs.has(run.id) === true);
    const cellMaxC = cells.length > 0 ? Math.min(...cells.map((c) => c.envelope.temperatureC[1])) : undefined;
    const reason = this.chamberSupervisor.check(slot.id, reading, reading.tMonoMs, { owned, cellMaxC });
    if (!reason) return;
    if (hotterThanCells(reading.temperatureC, cellMaxC) && !slot.latched) {
      slot.latched = reason;
      this.events.error?.(slot.id, new Error(`chamber ${slot.id} to safe state: ${reason}`));
      await slot.chamber.toSafeState().catch((err: unknown) => this.events.error?.(slot.id, err));
    } else if (runs.length > 0) this.events.error?.(slot.id, new Error(reason));
    for (const run of runs) await run.fault(reason);
  }

  /**
   * The wall timestamp of a new sample of `source`: whole milliseconds, and always after the source's
   * previous one (`previous`). InfluxDB keys a point by series and millisecond, so two samples in one
   * millisecond (a late tick right before the next deadline) or after a backwards NTP step would
   * overwrite each other; meanwhile the stamps advance 1 ms per sample until the clock catches up.
   * A backwards step is reported; step timing and integration use the monotonic clock regardless.
   */
  private stampWall(source: string, previous: number | undefined): number {
    const wall = Math.round(this.clock.wallNow());
    const seen = this.wallSeen.get(source);
    this.wallSeen.set(source, wall);
    if (seen !== undefined && wall < seen)
      this.events.error?.(
        "clock",
        new Error(`wall clock went back ${seen - wall} ms (NTP step?); test time is unaffected`),
      );
    return previous !== undefined && wall <= previous ? previous + 1 : wall;
  }

  /** A channel whose cell has sensors: its sample waits for their scan (at most half a period). */
  private async sampleWithSensors(
    slot: ChannelSlot,
    tMonoMs: number,
    tWallMs: number,
    r: CyclerReading,
  ): Promise<void> {
    let sample: ChannelSample;
    try {
      await this.awaitScans(slot.id, tMonoMs);
      sample = {
        channel: slot.id,
        tMonoMs,
        tWallMs,
        voltageV: r.voltageV,
        currentA: r.currentA,
        ...this.cellTemperature(slot.id, r.temperatureC, this.clock.now()),
      };
    } catch (err) {
      this.readFailed(slot, err);
      return;
    }
    const done = this.acceptSample(slot, sample);
    if (done !== undefined) await done;
  }

  private readFailed(slot: ChannelSlot, err: unknown): void {
    slot.readErrors++;
    this.events.error?.(slot.id, err);
  }

  /** A new sample of a channel: kept, fed to the watchdog and listeners, then supervised. */
  private acceptSample(slot: ChannelSlot, sample: ChannelSample): Promise<void> | undefined {
    slot.latest = sample;
    this.watchdog.fresh(slot.id, sample.tMonoMs);
    // Listeners and the run's own handling report their errors: none may skip the checks below.
    // (Inline rather than through report(): no closure per sample.)
    try {
      this.events.channelSample?.(slot, sample);
    } catch (err) {
      this.events.error?.(slot.id, err);
    }
    return this.supervise(slot, sample, true);
  }

  /**
   * The safety supervisor's decision on a sample, carried out: safe state first, then the run sees
   * the sample (when `toRun`: a new sample, not a re-check), then a violation faults (or suspends) the run.
   * A sample within limits that the run handles at once completes here without a promise (undefined).
   */
  private supervise(slot: ChannelSlot, sample: ChannelSample, toRun = false): Promise<void> | undefined {
    const run = slot.run?.isUnderway ? slot.run : undefined;
    const violation = this.supervisor.inspect(sample, run !== undefined);
    if (violation) return this.superviseViolation(slot, sample, toRun, run, violation);
    const target = toRun ? slot.run : undefined;
    let handled: Promise<void> | undefined;
    try {
      handled = target && !target.isTerminal ? target.onSample(sample) : undefined;
    } catch (err) {
      this.events.error?.(slot.id, err);
    }
    if (handled !== undefined) return this.afterRunSample(slot, handled);
    this.violating.delete(slot.id);
    return undefined;
  }

  /** The rest of a sample within limits whose run needed to wait (a set point, a step change). */
  private async afterRunSample(slot: ChannelSlot, handled: Promise<void>): Promise<void> {
    try {
      await handled;
    } catch (err) {
      this.events.error?.(slot.id, err);
    }
    this.violating.delete(slot.id);
  }

  private async superviseViolation(
    slot: ChannelSlot,
    sample: ChannelSample,
    toRun: boolean,
    run: RunEngine | undefined,
    violation: Violation,
  ): Promise<void> {
    await this.safeState(slot);
    const target = toRun ? slot.run : undefined;
    if (target && !target.isTerminal) {
      try {
        await target.onSample(sample);
      } catch (err) {
        this.events.error?.(slot.id, err);
      }
    }
    if (run || this.violating.get(slot.id) !== violation.kind) {
      this.violating.set(slot.id, violation.kind);
      await this.onViolation(slot, violation);
    }
  }

  /** The cell temperature of a sample: from the channel's configured sensors when it has any, else its own. */
  private cellTemperature(
    channelId: string,
    own: number,
    nowMs: number,
  ): Pick<ChannelSample, "temperatureC" | "temperatureAgeMs" | "temperatureFault" | "temperaturesC"> {
    const sensors = this.channel(channelId).sensors;
    if (sensors.length === 0) return { temperatureC: own };
    const t = this.sensorScans.temperatureOf(sensors, nowMs);
    return t.ok
      ? { temperatureC: t.temperatureC, temperatureAgeMs: t.ageMs, temperaturesC: t.bySensor }
      : { temperatureC: Number.NaN, temperatureFault: t.fault };
  }

  private report(source: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.events.error?.(source, err);
    }
  }

  /** Output off on one channel; a failure is reported, never thrown (the caller goes on to the run). */
  private async safeState(slot: ChannelSlot): Promise<void> {
    await slot.channel.toSafeState().catch((err: unknown) => this.events.error?.(slot.id, err));
  }

  /**
   * Latches the run on the channel as faulted; a fault that concerns the cells around it (too hot,
   * no temperature) also puts its chamber into safe state and holds every other run in it.
   */
  private async onViolation(slot: ChannelSlot, violation: Violation): Promise<void> {
    const cellId = this.supervisor.cellOn(slot.id)?.cell.id ?? "?";
    const reason = `${violation.reason} (cell ${cellId} on ${slot.id})`;
    const window = violation.kind === "charge-window" || violation.kind === "discharge-window";
    if (slot.run?.isUnderway && window) await slot.run.suspendForWindow(violation.reason);
    else if (slot.run?.isUnderway) await slot.run.fault(violation.reason);
    else this.events.error?.(slot.id, new Error(`safety: ${reason}`));
    const chamber = slot.chamberId ? this.chambers.get(slot.chamberId) : undefined;
    if (!chamber || !concernsChamber(violation) || chamber.latched) return;
    chamber.latched = reason;
    this.events.error?.(chamber.id, new Error(`chamber ${chamber.id} to safe state: ${reason}`));
    await chamber.chamber.toSafeState().catch((err: unknown) => this.events.error?.(chamber.id, err));
    for (const id of chamber.channels) {
      const other = this.channels.get(id);
      if (other && other !== slot && other.run?.isUnderway)
        await other.run.hold(
          `held: chamber ${chamber.id} in safe state after a fault of cell ${cellId} on ${slot.id}: ${violation.reason}`,
        );
    }
  }
}

const CHAMBER_PREFIX = "chamber:";
const chamberKey = (id: string) => `${CHAMBER_PREFIX}${id}`;

function chamberIndex(config: BenchConfig): Map<string, string> {
  const index = new Map<string, string>();
  for (const c of config.chambers) for (const ch of c.channels) index.set(ch, c.id);
  return index;
}

/** Every chamber set point a profile asks for. */
export function chamberSetpoints(nodes: RunDefinition["profile"]["steps"]): number[] {
  return nodes.flatMap((n) =>
    n.type === "chamber"
      ? [n.setpointC]
      : n.type === "sweep"
        ? [...n.chamberC, ...chamberSetpoints(n.steps)]
        : n.type === "repeat"
          ? chamberSetpoints(n.steps)
          : [],
  );
}

/** True when a profile has chamber steps or sweeps anywhere. */
export function usesChamber(nodes: RunDefinition["profile"]["steps"]): boolean {
  return nodes.some(
    (n) => n.type === "chamber" || n.type === "sweep" || (n.type === "repeat" && usesChamber(n.steps)),
  );
}

import type { ScpiErrorEntry } from "../../../protocols/scpi/scpi-errors.js";
import type { Transport } from "../../../protocols/transport/transport.js";

export type FakeReply = string | { reply?: string; delayMs?: number } | undefined;

export interface FakeScpiInstrumentOptions {
  /** Terminator the instrument expects on commands. Default "\n". */
  readTerminator?: string;
  /** Terminator it appends to replies. Default "\n". */
  writeTerminator?: string;
  /** Answers per command; unknown commands queue -113 "Undefined header" and get no reply. */
  handle(command: string, instrument: FakeScpiInstrument): FakeReply;
  /** Whether it implements SYST:ERR? and SYST:ERR:ALL?. Default true. */
  errorQueue?: boolean;
}

/**
 * A test instrument: processes commands strictly in order (each reply, possibly delayed, is sent
 * before the next command is looked at), like a real SCPI parser.
 */
export class FakeScpiInstrument {
  readonly received: string[] = [];
  readonly errors: ScpiErrorEntry[] = [];
  private buffer = "";
  private work: Promise<void> = Promise.resolve();
  private readonly readTerminator: string;
  private readonly writeTerminator: string;

  constructor(
    readonly transport: Transport,
    private readonly options: FakeScpiInstrumentOptions,
  ) {
    this.readTerminator = options.readTerminator ?? "\n";
    this.writeTerminator = options.writeTerminator ?? "\n";
    transport.on("data", (chunk) => {
      this.buffer += chunk.toString("latin1");
      for (;;) {
        const end = this.buffer.indexOf(this.readTerminator);
        if (end < 0) break;
        const command = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + this.readTerminator.length);
        this.work = this.work.then(() => this.process(command));
      }
    });
  }

  /** Sends a line nobody asked for. */
  async sendLine(line: string): Promise<void> {
    await this.transport.write(Buffer.from(line + this.writeTerminator, "latin1"));
  }

  private async process(command: string): Promise<void> {
    this.received.push(command);
    let answer: FakeReply;
    if (this.options.errorQueue !== false && /^SYST(EM)?:ERR(OR)?\?$/i.test(command)) {
      const next = this.errors.shift();
      answer = next ? `${next.code},"${next.message}"` : '0,"No error"';
    } else if (this.options.errorQueue !== false && /^SYST(EM)?:ERR(OR)?:ALL\?$/i.test(command)) {
      const all = this.errors.splice(0);
      answer = all.length ? all.map((e) => `${e.code},"${e.message}"`).join(",") : '0,"No error"';
    } else {
      answer = this.options.handle(command, this);
      if (answer === undefined && command.endsWith("?"))
        this.errors.push({ code: -113, message: "Undefined header" });
    }
    const { reply, delayMs = 0 } = typeof answer === "string" ? { reply: answer } : (answer ?? {});
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (reply !== undefined) await this.sendLine(reply).catch(() => undefined);
  }
}

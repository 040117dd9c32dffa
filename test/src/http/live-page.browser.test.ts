/**
 * The live page in a real browser: Debian's chromium, driven by puppeteer-core, against a daemon on
 * the demo configuration (examples/sim-bench.yaml: anonymous viewers, loopback) with a run going.
 * CI installs chromium (.ci/run); without it these tests fail and say so, they do not skip.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load-config.js";
import { Daemon } from "../../../src/daemon.js";
import { createLogger } from "../../../src/log.js";
import { type HttpBench, NMC_CELL_BODY, openHttpBench, TOKENS } from "../../support/http-bench.js";

const CHROMIUM = "/usr/bin/chromium";
const root = join(import.meta.dirname, "..", "..", "..");
const demo = loadConfig(join(root, "examples", "sim-bench.yaml"), {});
const OPERATOR = demo.tokens.find((t) => t.role === "operator")?.token as string;
/** Waits in the page: long enough for a loaded CI machine, short enough to fail a broken page. */
const WAIT_MS = 20_000;

let browser: Browser;
let daemon: Daemon;
let base: string;
let runId: string;
const scratch = mkdtempSync(join(tmpdir(), "cellbench-live-page-"));

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `the live page test drives Debian's chromium at ${CHROMIUM}, which is missing: apt-get install chromium (.ci/run installs it)`,
    );
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // CI may run as root, where chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const { influx: _noInflux, ...config } = demo;
  daemon = await Daemon.start({
    config: { ...config, store: join(scratch, "cellbench.db"), http: { ...config.http, port: 0 } },
    logger: createLogger({ level: "silent" }),
  });
  base = daemon.address as string;
  const created = await fetch(`${base}/api/v1/runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
    body: JSON.stringify({
      channel: "ch1",
      cell: NMC_CELL_BODY,
      profile: "name: live-page\nsteps:\n  - Discharge at 1C for 20 minutes\n  - Rest for 5 minutes\n",
    }),
  });
  expect(created.status).toBe(201);
  runId = ((await created.json()) as { id: string }).id;
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * The little of the DOM that the functions run in the page touch: the project's TypeScript has no
 * DOM library (declared here, in this module only).
 */
interface El {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  children: ArrayLike<El> & Iterable<El>;
  hidden: boolean;
  open: boolean;
  value: string;
  href: string;
  options: ArrayLike<{ value: string }> & Iterable<{ value: string }>;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  body: El;
};

/** Waits until `condition` (run in the page) holds; on timeout says what and shows the page's text. */
async function until<A extends string | number | string[]>(
  page: Page,
  what: string,
  condition: (arg: A) => boolean,
  arg?: A,
): Promise<void> {
  try {
    await page.waitForFunction(
      condition as (arg: unknown) => boolean,
      { timeout: WAIT_MS, polling: 100 },
      arg,
    );
  } catch (err) {
    const text = await page.evaluate(() => document.body.textContent ?? "").catch(() => "(no page)");
    throw new Error(
      `${what}: ${(err as Error).message}\n--- page text ---\n${text.replace(/\s+/g, " ").slice(0, 3000)}`,
    );
  }
}

const text = (page: Page, selector: string) =>
  page.$eval(selector, (e) => (e as unknown as El).textContent?.trim() ?? "");

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`page error: ${(err as Error).message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("dialog", (dialog) => void dialog.accept());
  await page.setViewport({ width: 1400, height: 1000 });
  return { page, errors };
}

describe("the live page at /, anonymous viewer (demo configuration)", () => {
  it("lists every channel and chamber, shows the run, and updates live values with units", async () => {
    const { page, errors } = await openPage();
    await page.goto(`${base}/`);
    await until(
      page,
      "the eight channel cards",
      () => document.querySelectorAll("[data-channel]").length === 8,
    );
    expect(
      await page.$$eval("[data-channel]", (els) => els.map((e) => (e as unknown as El).dataset.channel)),
    ).toEqual(["ch1", "ch2", "ch3", "ch4", "ch5", "ch6", "ch7", "ch8"]);
    expect(await text(page, "#who")).toBe("viewer (no token)");

    await until(
      page,
      "the run in the runs table, running",
      (id) => document.querySelector(`#runs tr[data-run="${id}"]`)?.getAttribute("data-state") === "running",
      runId,
    );
    const row = `#runs tr[data-run="${runId}"]`;
    expect(await text(page, `${row} td.step`)).toMatch(/^step 1: Discharge at 1C for 20 minutes/);
    const grafana = await page.$eval(`${row} a.grafana`, (a) => (a as unknown as El).href);
    expect(grafana.startsWith("http://127.0.0.1:3000/d/")).toBe(true);
    expect(new URL(grafana).searchParams.get("var-run")).toBe(runId);
    expect(new URL(grafana).searchParams.get("var-channel")).toBe("ch1");

    // Live values: the run's current with its unit on ch1, and new points arriving on its plots.
    await until(
      page,
      "ch1 to show the run's -3.000 A",
      () =>
        document.querySelector('[data-channel="ch1"] .value[data-quantity="current_a"]')?.textContent ===
        "-3.000 A",
    );
    const ch1 = '[data-channel="ch1"]';
    expect(await text(page, `${ch1} .value[data-quantity="voltage_v"]`)).toMatch(/^[34]\.\d{3} V$/);
    expect(await text(page, `${ch1} .value[data-quantity="temperature_c"]`)).toMatch(/^\d+\.\d °C$/);
    // Progress and ETA come from the run's dry run, which a worker computes after the start.
    await until(page, "the ETA of the run on ch1", () =>
      /ETA .* \(in \d+ min \d\d s\)/.test(
        document.querySelector('[data-channel="ch1"] .step')?.textContent ?? "",
      ),
    );
    expect(await text(page, '[data-channel="ch2"] .value[data-quantity="current_a"]')).toBe("0.000 A");
    const points = Number(await page.$eval(ch1, (el) => (el as unknown as El).dataset.points));
    await until(
      page,
      "three more live points on ch1",
      (before) => Number((document.querySelector('[data-channel="ch1"]') as El).dataset.points) >= before + 3,
      points,
    );
    expect(await page.$$eval(`${ch1} .plot canvas`, (els) => els.length)).toBe(3);

    expect(await text(page, '[data-chamber="tc1"] .value[data-quantity="pv"]')).toMatch(/^\d+\.\d °C$/);
    expect(await text(page, '[data-chamber="tc1"] .value[data-quantity="sp"]')).toMatch(/^\d+\.\d °C$/);
    expect(await text(page, "#connection")).toBe("live");

    // A viewer gets no controls.
    expect(await page.$$eval("button[data-action]", (els) => els.length)).toBe(0);
    expect(await page.$eval("#start-section", (el) => (el as unknown as El).hidden)).toBe(true);
    expect(errors).toEqual([]);
    await page.browserContext().close();
  }, 60_000);

  it("lets an operator who gives a token pause, resume and stop the run, start another, and clear a fault shown with its reason", async () => {
    const { page, errors } = await openPage();
    await page.goto(`${base}/`);
    await until(
      page,
      "the anonymous page",
      () => document.querySelector("#who")?.textContent === "viewer (no token)",
    );
    await page.click("#sign-in");
    await page.type("#token-input", OPERATOR);
    await page.click("#token-submit");
    await until(
      page,
      "the operator session",
      () => document.querySelector("#who")?.textContent === "operator",
    );

    const row = `#runs tr[data-run="${runId}"]`;
    const inState = ([id, state]: string[]) =>
      document.querySelector(`#runs tr[data-run="${id}"]`)?.getAttribute("data-state") === state;
    await until(
      page,
      "the Pause button",
      (id) => !!document.querySelector(`#runs tr[data-run="${id}"] button[data-action="pause"]`),
      runId,
    );
    await page.click(`${row} button[data-action="pause"]`);
    await until(page, "the run paused", inState, [runId, "paused"]);
    expect(daemon.runs.get(runId).state).toBe("paused");
    await page.click(`${row} button[data-action="resume"]`);
    await until(page, "the run running again", inState, [runId, "running"]);

    // The Stop button must survive the refreshes that follow: a click that lands on a replaced button is
    // lost (the run's Grafana link ends at "now", so every refresh renders it anew).
    await page.$eval(`${row} button[data-action="stop"]`, (el) => {
      (el as unknown as El).dataset.kept = "yes";
    });

    // Start a run on ch5 from the form: pasted profile, the cell typed in.
    await until(page, "ch5 in the start form", () =>
      [...(document.querySelector("#start-channel") as El).options].some((o) => o.value === "ch5"),
    );
    await page.select("#start-channel", "ch5");
    await page.$eval("#start-profile-text", (el) => {
      (el as unknown as El).value = "name: from-the-page\nsteps:\n  - Charge at 0.5C for 30 minutes\n";
    });
    for (const [id, value] of [
      ["#cell-id", "NMC-0005"],
      ["#cell-capacity", "3"],
      ["#cell-vmin", "2.5"],
      ["#cell-vmax", "4.2"],
      ["#cell-imin", "-6"],
      ["#cell-imax", "6"],
      ["#cell-tmin", "-20"],
      ["#cell-tmax", "60"],
    ] as const)
      await page.type(id, value);
    await page.click("#start-submit");
    await until(
      page,
      "the run started from the page on ch5",
      () =>
        !![...document.querySelectorAll("#runs tr[data-state=running]")].find(
          (r) => r.children[1]?.textContent === "ch5",
        ),
    );
    expect(await text(page, "#start-error")).toBe("");
    const started = daemon.runs.list().find((r) => r.channel === "ch5");
    expect([started?.profile, started?.cell]).toEqual(["from-the-page", "NMC-0005"]);
    await until(
      page,
      "ch5 to show its charge current",
      () =>
        document.querySelector('[data-channel="ch5"] .value[data-quantity="current_a"]')?.textContent ===
        "1.500 A",
    );

    expect(
      await page.$eval(`${row} button[data-action="stop"]`, (el) => (el as unknown as El).dataset.kept),
      "the Stop button was replaced by a refresh",
    ).toBe("yes");
    await page.click(`${row} button[data-action="stop"]`);
    await until(page, "the run stopped", inState, [runId, "stopped"]);
    expect(daemon.runs.get(runId).state).toBe("stopped");

    // A fault shows with its reason, and an operator clears it from the page.
    const faulted = daemon.runs.list().find((r) => r.channel === "ch5")?.id as string;
    const stop = await fetch(`${base}/api/v1/emergency-stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "smoke in the lab" }),
    });
    expect(stop.status).toBe(200);
    await until(page, "the faulted run", inState, [faulted, "faulted"]);
    await until(
      page,
      "the fault and its reason in the faults list",
      (id) =>
        [...document.querySelectorAll("#faults li")].some(
          (li) => li.textContent?.includes(id) && li.textContent.includes("emergency stop: smoke in the lab"),
        ),
      faulted,
    );
    expect(await text(page, `#runs tr[data-run="${faulted}"] .reason`)).toBe(
      "emergency stop: smoke in the lab",
    );
    await page.click(`#runs tr[data-run="${faulted}"] button[data-action="clear"]`);
    await until(
      page,
      "the fault cleared",
      (id) => ![...document.querySelectorAll("#faults li")].some((li) => li.textContent?.includes(id)),
      faulted,
    );
    expect(daemon.runs.get(faulted).cleared).toBe(true);
    expect(errors).toEqual([]);
    await page.browserContext().close();
  }, 90_000);
});

describe("the live page without anonymous access", () => {
  let h: HttpBench;
  afterAll(async () => {
    await h?.close();
  });

  it("asks for a token once, says when it is refused, and keeps it for the session", async () => {
    h = await openHttpBench({ auto: false });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const address = h.app.server.address() as { port: number };
    const { page, errors } = await openPage();
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await until(page, "the token dialog", () => (document.querySelector("#token-dialog") as El).open);
    expect(await text(page, "#token-why")).toMatch(/needs an API token/);

    await page.type("#token-input", "not-a-token-of-this-daemon");
    await page.click("#token-submit");
    await until(page, "the refusal", () =>
      /refused the token/.test(document.querySelector("#token-why")?.textContent ?? ""),
    );

    await page.type("#token-input", TOKENS.viewer);
    await page.click("#token-submit");
    await until(page, "the channel card", () => document.querySelectorAll("[data-channel]").length === 1);
    // With a token the event stream opens with a stream ticket.
    await until(
      page,
      "the live event stream",
      () => document.querySelector("#connection")?.textContent === "live",
    );
    expect(await text(page, "#who")).toBe("viewer");

    await page.reload();
    await until(
      page,
      "the channel card after a reload",
      () => document.querySelectorAll("[data-channel]").length === 1,
    );
    expect(await page.$eval("#token-dialog", (el) => (el as unknown as El).open)).toBe(false);
    // The refused token's 401s are the only errors the browser logs.
    expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
    await page.browserContext().close();
  }, 60_000);
});

/**
 * The live page: every channel (state, step, ETA, V, I and T with plots), the chambers (PV/SP), the
 * runs (start, pause, resume, stop and clear for an operator, Grafana links) and the faults. It reads
 * the REST API once and on every step or state change, and follows GET /api/v1/events for live values.
 */
import { ApiError, api, followEvents, tokens } from "./api.js";
import { ampHours, amps, celsius, duration, localTime, volts, withUnit } from "./format.js";
import { ChannelPlots } from "./plots.js";

const ACTIVE = new Set(["queued", "running", "paused", "interrupted"]);
const ENDED_RUNS_SHOWN = 10;
const REFRESH_MS = 10_000;

const $ = (id) => document.getElementById(id);

/** An element with properties (class, dataset, on<event>, attributes) and children (text is text, never HTML). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

const page = {
  session: undefined,
  bench: undefined,
  health: undefined,
  profiles: [],
  /** Run views by id (REST), updated by live events. */
  runs: new Map(),
  /** Channel cards by channel id. */
  cards: new Map(),
  chambers: new Map(),
  stopEvents: undefined,
  refreshTimer: undefined,
  refreshing: undefined,
};

const canOperate = () => page.session?.role === "operator" || page.session?.role === "admin";

// ---- sign-in -------------------------------------------------------------------------------------

async function signIn() {
  page.stopEvents?.();
  page.stopEvents = undefined;
  try {
    page.session = await api("/api/v1/session");
  } catch (err) {
    page.session = undefined;
    showSession();
    if (err instanceof ApiError && err.status === 401) {
      askToken(
        tokens.present
          ? `The daemon refused the token: ${err.message}`
          : "This daemon needs an API token to show the bench (viewer, operator or admin).",
      );
      return;
    }
    showPageError(`Cannot reach the daemon: ${err.message}. Retrying…`);
    setTimeout(() => void signIn(), 5000);
    return;
  }
  showPageError("");
  showSession();
  await refresh();
  page.stopEvents = followEvents(
    {
      channels: onChannels,
      sample: onSample,
      step: onStep,
      state: () => scheduleRefresh(),
      cycle: () => scheduleRefresh(),
    },
    (status) => {
      const pill = $("connection");
      pill.textContent = status === "live" ? "live" : status === "reconnecting" ? "reconnecting…" : "offline";
      pill.className = `pill ${status === "live" ? "live" : "down"}`;
    },
  );
}

function showSession() {
  const s = page.session;
  $("bench").textContent = s?.bench ?? "";
  $("who").textContent = s ? (s.anonymous ? `${s.role} (no token)` : s.role) : "not signed in";
  $("sign-out").hidden = !tokens.present;
  $("start-section").hidden = !canOperate();
}

function askToken(why) {
  $("token-why").textContent = why;
  $("token-error").textContent = "";
  $("token-input").value = "";
  const dialog = $("token-dialog");
  if (!dialog.open) dialog.showModal();
  $("token-input").focus();
}

function bindTokenDialog() {
  $("sign-in").addEventListener("click", () =>
    askToken("Enter an API token of this daemon (an operator token allows starting and stopping runs)."),
  );
  $("sign-out").addEventListener("click", () => {
    tokens.clear();
    void signIn();
  });
  $("token-cancel").addEventListener("click", () => {
    $("token-dialog").close();
    if (!page.session) showPageError("Without a token this daemon shows nothing; use “Use a token…”.");
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("token-input").value.trim();
    if (value.length < 16) {
      $("token-error").textContent = "A token has at least 16 characters.";
      return;
    }
    tokens.set(value, $("token-remember").checked);
    $("token-dialog").close();
    void signIn();
  });
}

function showPageError(text) {
  const el = $("page-error");
  el.textContent = text;
  el.hidden = text === "";
}

// ---- loading -------------------------------------------------------------------------------------

/** Reloads the bench, runs, health and (for operators) profiles; one refresh at a time. */
async function refresh() {
  if (page.refreshing) return page.refreshing;
  page.refreshing = (async () => {
    try {
      const [bench, runs, health, profiles] = await Promise.all([
        api("/api/v1/bench"),
        api("/api/v1/runs"),
        api("/health").catch((err) => (err instanceof ApiError ? undefined : Promise.reject(err))),
        canOperate() ? api("/api/v1/profiles") : Promise.resolve({ profiles: [] }),
      ]);
      page.bench = bench;
      page.runs = new Map(runs.runs.map((r) => [r.id, r]));
      page.health = health;
      page.profiles = profiles.profiles;
      render();
      showPageError("");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) void signIn();
      else showPageError(`Cannot load the bench: ${err.message}`);
    } finally {
      page.refreshing = undefined;
    }
  })();
  return page.refreshing;
}

function scheduleRefresh() {
  clearTimeout(page.refreshTimer);
  page.refreshTimer = setTimeout(() => void refresh(), 250);
}

// ---- live events ---------------------------------------------------------------------------------

function onChannels(snapshot) {
  $("bench-time").textContent = localTime(snapshot.time);
  const t = Date.parse(snapshot.time);
  for (const c of snapshot.channels) {
    const card = page.cards.get(c.channel);
    if (!card) continue;
    setValues(card, c);
    card.plots.push(t, c);
    card.el.dataset.points = String(card.plots.points);
  }
  for (const c of snapshot.chambers) {
    const card = page.chambers.get(c.chamber);
    if (card) setChamber(card, c.temperature_c, c.setpoint_c, undefined);
  }
}

function onSample(sample) {
  const run = page.runs.get(sample.run);
  if (!run) return scheduleRefresh();
  run.last_sample = sample;
  run.test_time_s = sample.test_time_s;
  if (sample.progress)
    run.progress = {
      ...run.progress,
      fraction: sample.progress.fraction,
      remaining_s: sample.progress.remaining_s,
      eta: new Date(Date.parse(sample.time) + sample.progress.remaining_s * 1000).toISOString(),
    };
  if (run.step) run.step.elapsed_s = sample.step_time_s;
  renderRun(run);
}

function onStep(step) {
  const run = page.runs.get(step.run);
  if (run) {
    run.step = { index: step.step_index, path: step.path, text: step.text, elapsed_s: 0 };
    run.cycle_index = step.cycle_index;
    renderRun(run);
  }
  scheduleRefresh();
}

// ---- rendering -----------------------------------------------------------------------------------

function render() {
  buildCards();
  renderChannels();
  renderChambers();
  renderRuns();
  renderFaults();
  renderStartForm();
}

/** Builds the channel and chamber cards once (the bench's configuration does not change while it runs). */
function buildCards() {
  if (page.cards.size > 0 || !page.bench) return;
  const channels = $("channels");
  for (const ch of page.bench.channels) {
    const value = (quantity, label) =>
      h(
        "span",
        {},
        h("span", { class: "label" }, label),
        h("span", { class: "value", dataset: { quantity } }, "–"),
      );
    const state = h("span", { class: "pill" }, "idle");
    const meta = h("div", { class: "meta" });
    const step = h("div", { class: "meta step" });
    const plotBox = h("div", { class: "plots" });
    const el = h(
      "article",
      { class: "card channel", dataset: { channel: ch.id, points: "0" } },
      h("h3", {}, ch.id, state),
      meta,
      step,
      h(
        "div",
        { class: "values" },
        value("voltage_v", "V"),
        value("current_a", "I"),
        value("temperature_c", "T"),
      ),
      plotBox,
    );
    channels.append(el);
    page.cards.set(ch.id, { el, state, meta, step, plotBox, plots: new ChannelPlots(plotBox) });
  }
  const chambers = $("chambers");
  for (const c of page.bench.chambers) {
    const pv = h("span", { class: "value", dataset: { quantity: "pv" } }, "–");
    const sp = h("span", { class: "value", dataset: { quantity: "sp" } }, "–");
    const out = h("span", { class: "value", dataset: { quantity: "output" } }, "–");
    const meta = h("div", { class: "meta" });
    const el = h(
      "article",
      { class: "card chamber", dataset: { chamber: c.id } },
      h("h3", {}, c.id),
      meta,
      h(
        "div",
        { class: "values" },
        h("span", {}, h("span", { class: "label" }, "PV"), pv),
        h("span", {}, h("span", { class: "label" }, "SP"), sp),
        h("span", {}, h("span", { class: "label" }, "out"), out),
      ),
    );
    chambers.append(el);
    page.chambers.set(c.id, { el, pv, sp, out, meta });
  }
  window.addEventListener("resize", () => {
    for (const card of page.cards.values()) card.plots.resize(card.plotBox.clientWidth);
  });
}

function setValues(card, sample) {
  const put = (quantity, text) => {
    const el = card.el.querySelector(`.value[data-quantity="${quantity}"]`);
    if (el) el.textContent = text;
  };
  put("voltage_v", volts(sample.voltage_v));
  put("current_a", amps(sample.current_a));
  put("temperature_c", celsius(sample.temperature_c));
}

function setChamber(card, pv, sp, outputPct) {
  card.pv.textContent = celsius(pv);
  card.sp.textContent = celsius(sp);
  if (outputPct !== undefined) card.out.textContent = withUnit(outputPct, 0, "%");
}

/** The run shown on a channel: its active run, else none. */
function runOnChannel(channelId) {
  for (const run of page.runs.values()) if (run.channel === channelId && ACTIVE.has(run.state)) return run;
  return undefined;
}

function renderChannels() {
  for (const ch of page.bench.channels) {
    const card = page.cards.get(ch.id);
    if (!card) continue;
    if (ch.last_sample && card.plots.points === 0) setValues(card, ch.last_sample);
    const run = runOnChannel(ch.id);
    const fault = ch.last_sample?.temperature_fault;
    card.meta.textContent = [
      ch.cell ? `cell ${ch.cell}` : run ? `cell ${run.cell}` : "no cell mounted",
      ch.chamber ? `chamber ${ch.chamber}` : undefined,
      run ? `run ${run.id}` : undefined,
      fault ? `temperature fault: ${fault}` : undefined,
    ]
      .filter(Boolean)
      .join(" · ");
    renderChannelRun(card, run);
  }
}

function renderChannelRun(card, run) {
  card.state.textContent = run ? run.state : "idle";
  card.state.className = `pill${run ? ` state-${run.state}` : ""}`;
  card.el.dataset.run = run ? run.id : "";
  card.step.textContent = run ? `${stepText(run)}${run.progress ? ` · ${etaText(run)}` : ""}` : "";
}

function stepText(run) {
  if (!run.step) return run.state === "queued" ? "queued" : "no step yet";
  const elapsed = typeof run.step.elapsed_s === "number" ? ` (${duration(run.step.elapsed_s)})` : "";
  return `step ${run.step.index}: ${run.step.text ?? run.step.path ?? ""}${elapsed}`;
}

function etaText(run) {
  const p = run.progress;
  if (!p) return "";
  return `${Math.round(p.fraction * 100)} % · ETA ${localTime(p.eta)} (in ${duration(p.remaining_s)})`;
}

function renderChambers() {
  for (const c of page.bench.chambers) {
    const card = page.chambers.get(c.id);
    if (!card) continue;
    const r = c.last_reading;
    setChamber(card, r?.temperature_c, r?.setpoint_c, r?.output_pct ?? undefined);
    card.meta.textContent = [
      `channels ${c.channels.join(", ")}`,
      c.owner ? `driven by ${c.owner}` : "no run drives it",
      r?.sensor_fault ? `sensor fault: ${r.sensor_fault}` : undefined,
    ]
      .filter(Boolean)
      .join(" · ");
  }
}

/** Active runs (newest first), then the newest ended ones. */
function shownRuns() {
  const all = [...page.runs.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return [
    ...all.filter((r) => ACTIVE.has(r.state)),
    ...all.filter((r) => !ACTIVE.has(r.state)).slice(0, ENDED_RUNS_SHOWN),
  ];
}

function renderRuns() {
  const body = $("runs").tBodies[0];
  const runs = shownRuns();
  const existing = new Map([...body.rows].map((row) => [row.dataset.run, row]));
  const rows = runs.map((run) => {
    const row = existing.get(run.id);
    if (!row) return runRow(run);
    syncRow(row, runRow(run));
    return row;
  });
  // Rows stay where they are unless the list changed: a row taken out of the page mid-click loses the click.
  if (rows.length !== body.rows.length || rows.some((row, i) => body.rows[i] !== row))
    body.replaceChildren(...rows);
  $("no-runs").hidden = runs.length > 0;
}

/** Updates one run's row and its channel's card after a live event. */
function renderRun(run) {
  const row = $("runs").querySelector(`tr[data-run="${CSS.escape(run.id)}"]`);
  if (row) syncRow(row, runRow(run));
  const card = page.cards.get(run.channel);
  if (card && ACTIVE.has(run.state)) renderChannelRun(card, run);
}

/**
 * Brings `row` up to `fresh` in place. Samples arrive several times a second: the action buttons are
 * replaced only when the actions change, so a button being clicked is never swapped out under the pointer.
 */
function syncRow(row, fresh) {
  row.dataset.state = fresh.dataset.state;
  const cells = [...row.cells];
  const freshCells = [...fresh.cells];
  const last = freshCells.length - 1;
  for (let i = 0; i < last; i++) cells[i].replaceWith(freshCells[i]);
  if (cells[last].dataset.key !== freshCells[last].dataset.key) cells[last].replaceWith(freshCells[last]);
  else {
    // An active run's dashboard link ends at "now", so it changes on every refresh: updated in place.
    const link = cells[last].querySelector("a.grafana");
    const freshLink = freshCells[last].querySelector("a.grafana");
    if (link && freshLink && link.href !== freshLink.href) link.href = freshLink.href;
  }
}

function runRow(run) {
  const reason =
    run.reason && run.state !== "running" ? h("div", { class: "reason" }, run.reason) : undefined;
  const grafana =
    page.session?.grafana_url && run.dashboard
      ? h(
          "a",
          {
            href: `${page.session.grafana_url}${run.dashboard}`,
            target: "_blank",
            rel: "noopener",
            class: "grafana",
          },
          "Grafana",
        )
      : undefined;
  return h(
    "tr",
    { dataset: { run: run.id, state: run.state } },
    h("td", {}, run.id),
    h("td", {}, run.channel),
    h("td", {}, run.cell),
    h("td", {}, run.profile),
    h("td", {}, h("span", { class: `pill state-${run.state}` }, run.state), reason),
    h("td", { class: "step" }, run.step ? stepText(run) : "–"),
    h("td", {}, run.cycle_index ?? "–"),
    h(
      "td",
      { class: "progress" },
      run.progress && ACTIVE.has(run.state)
        ? etaText(run)
        : run.discharge_ah !== null
          ? `${ampHours(run.discharge_ah)} out`
          : "–",
    ),
    h(
      "td",
      {
        class: "actions",
        dataset: { key: `${run.state}|${run.cleared}|${canOperate()}|${grafana !== undefined}` },
      },
      grafana,
      canOperate() ? actionButtons(run) : [],
    ),
  );
}

function actionButtons(run) {
  const button = (action, label) =>
    h("button", { type: "button", dataset: { action }, onclick: () => void control(run, action) }, label);
  switch (run.state) {
    case "running":
      return [button("pause", "Pause"), button("stop", "Stop")];
    case "paused":
    case "interrupted":
      return [button("resume", "Resume"), button("stop", "Stop")];
    case "faulted":
      return run.cleared ? [] : [button("clear", "Clear fault")];
    default:
      return [];
  }
}

async function control(run, action) {
  if (
    action === "stop" &&
    !window.confirm(`Stop run ${run.id} on ${run.channel}? A stopped run cannot be resumed.`)
  )
    return;
  $("run-error").textContent = "";
  try {
    const view = await api(`/api/v1/runs/${encodeURIComponent(run.id)}/${action}`, { method: "POST" });
    page.runs.set(view.id, view);
    renderRun(view);
    scheduleRefresh();
  } catch (err) {
    $("run-error").textContent = `${action} ${run.id}: ${err.message}`;
    if (err instanceof ApiError && err.status === 401)
      askToken(`That needs an operator token: ${err.message}`);
  }
}

function renderFaults() {
  const items = [...(page.health?.problems ?? [])];
  for (const ch of page.bench.channels)
    if (ch.last_sample?.temperature_fault)
      items.push(`channel ${ch.id}: ${ch.last_sample.temperature_fault}`);
  $("faults").replaceChildren(...items.map((text) => h("li", {}, text)));
  $("no-faults").hidden = items.length > 0;
}

// ---- starting a run ------------------------------------------------------------------------------

function renderStartForm() {
  if (!canOperate()) return;
  const select = $("start-channel");
  const chosen = select.value;
  const free = page.bench.channels.filter((ch) => !runOnChannel(ch.id));
  select.replaceChildren(...free.map((ch) => h("option", { value: ch.id }, ch.id)));
  if (free.some((ch) => ch.id === chosen)) select.value = chosen;
  const stored = $("start-profile");
  const chosenProfile = stored.value;
  stored.replaceChildren(
    ...page.profiles.map((p) => h("option", { value: p.id }, `${p.name} (${p.steps} steps, ${p.id})`)),
  );
  if (page.profiles.some((p) => p.id === chosenProfile)) stored.value = chosenProfile;
  $("source-stored").disabled = page.profiles.length === 0;
  if (page.profiles.length === 0) $("source-text").checked = true;
  showCellFields();
}

function showCellFields() {
  const channel = page.bench?.channels.find((ch) => ch.id === $("start-channel").value);
  const mounted = channel?.cell ?? undefined;
  $("start-mounted").textContent = mounted ? `Runs the cell mounted on ${channel.id}: ${mounted}.` : "";
  $("start-cell").hidden = mounted !== undefined;
  const text = $("source-text").checked;
  $("start-profile-text").hidden = !text;
  $("start-profile").disabled = text;
}

function numberOf(id) {
  const raw = $(id).value.trim();
  return raw === "" ? undefined : Number(raw);
}

function pair(a, b) {
  const lo = numberOf(a);
  const hi = numberOf(b);
  return lo === undefined && hi === undefined ? undefined : [lo ?? null, hi ?? null];
}

function bindStartForm() {
  $("start-channel").addEventListener("change", showCellFields);
  $("source-text").addEventListener("change", showCellFields);
  $("source-stored").addEventListener("change", showCellFields);
  $("start-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void startRun();
  });
}

async function startRun() {
  const error = $("start-error");
  error.textContent = "";
  const channel = $("start-channel").value;
  if (!channel) {
    error.textContent = "Every channel has a run; stop one first.";
    return;
  }
  const body = { channel };
  if ($("source-stored").checked) body.profile_id = $("start-profile").value;
  else body.profile = $("start-profile-text").value;
  if (!$("start-cell").hidden) {
    const cell = {
      id: $("cell-id").value.trim(),
      chemistry: $("cell-chemistry").value,
      capacity_ah: numberOf("cell-capacity"),
      current: pair("cell-imin", "cell-imax"),
      voltage: pair("cell-vmin", "cell-vmax"),
      temperature: pair("cell-tmin", "cell-tmax"),
    };
    body.cell = Object.fromEntries(Object.entries(cell).filter(([, v]) => v !== undefined && v !== ""));
  }
  $("start-submit").disabled = true;
  try {
    const view = await api("/api/v1/runs", { method: "POST", body, idempotent: true });
    page.runs.set(view.id, view);
    await refresh();
  } catch (err) {
    error.textContent = err.message;
    if (err instanceof ApiError && err.status === 401)
      askToken(`Starting a run needs an operator token: ${err.message}`);
  } finally {
    $("start-submit").disabled = false;
  }
}

// ---- start ---------------------------------------------------------------------------------------

bindTokenDialog();
bindStartForm();
setInterval(() => {
  if (page.session) void refresh();
}, REFRESH_MS);
void signIn();

/**
 * Structural lint of the Grafana dashboards and their provisioning files. Each rule returns the
 * problems it finds (empty: clean), each naming the dashboard, the panel and what to change.
 *
 * Units follow the field names the encoder writes (src/storage/record-encoder.ts): a field's unit is
 * in its name (`voltage_v`, `charge_ah`, `output_pct`), so a panel's unit can be checked against
 * what it selects, not only for presence.
 */
import type {
  Annotation,
  Dashboard,
  DashboardFile,
  DashboardProvisioning,
  DatasourceProvisioning,
  Panel,
} from "./dashboard-model.js";
import { influxAnnotations, queryPanels } from "./dashboard-model.js";

/** The dashboards and their fixed uids (links from the daemon and between dashboards use them). */
export const DASHBOARD_UIDS = ["cellbench-bench", "cellbench-chamber", "cellbench-run"] as const;

/** Grafana unit ids of the fields cellbench writes, by the unit suffix of the field name. */
const UNIT_BY_SUFFIX: readonly [RegExp, string][] = [
  [/_v$/, "volt"],
  [/_a$/, "amp"],
  [/_w$/, "watt"],
  [/_ah$/, "amph"],
  [/_wh$/, "watth"],
  [/_c$/, "celsius"],
  [/_pct$/, "percent"],
  [/_s$/, "s"],
  [/_ohm$/, "ohm"],
  [/_index$|^step_id$/, "none"],
  [/_efficiency$|_retention$/, "percentunit"],
];
/** Tags and string fields: shown as text (unit "string"). */
const TEXT_COLUMNS = new Set([
  "bench",
  "channel",
  "run",
  "cell",
  "chamber",
  "state",
  "reason",
  "path",
  "step_type",
  "end_reason",
]);
/** Regex field selections (`mean(/^temperature_c_/)`): the sensor fields (`temperature_c_<device>_<input>`). */
const UNIT_BY_FIELD_REGEX: Readonly<Record<string, string>> = { "^temperature_c_": "celsius" };

/** Grafana's own variables and the InfluxDB alias patterns, which need no definition. */
function isBuiltIn(name: string): boolean {
  return name === "timeFilter" || name === "interval" || name.startsWith("__");
}
const ALIAS_PATTERN = /^(tag_.+|col|m|measurement)$/;
const VARIABLE_REF =
  /\$\{([A-Za-z0-9_.]+)(?::[^}]*)?\}|\[\[([A-Za-z0-9_.]+)(?::[^\]]*)?\]\]|\$([A-Za-z0-9_]+)/g;

export function variableRefs(text: string): string[] {
  return [...text.matchAll(VARIABLE_REF)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

export interface SelectedColumn {
  /** The column's name in the result (the alias, the field, or the function's name). */
  column: string;
  /** The field or tag read, or undefined for a regex selection. */
  field?: string;
  fieldRegex?: string;
}

/** Parses the select list of a `SELECT ... FROM` statement. */
export function selectedColumns(query: string): SelectedColumn[] {
  const m = /^\s*SELECT\s+(.*?)\s+FROM\s/is.exec(query);
  if (!m) return [];
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of m[1] as string) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      items.push(current.trim());
      current = "";
    } else current += ch;
  }
  items.push(current.trim());
  return items.map((item) => {
    const parts = /^(?:(\w+)\(\s*)?(?:"([^"]+)"|\/([^/]+)\/)\s*\)?(?:\s+AS\s+"([^"]+)")?$/i.exec(item);
    if (!parts) return { column: item };
    const [, fn, field, regex, alias] = parts;
    return {
      column: alias ?? (fn ? fn : (field ?? item)),
      ...(field !== undefined ? { field } : {}),
      ...(regex !== undefined ? { fieldRegex: regex } : {}),
    };
  });
}

/** The unit a selected column should have: a Grafana unit id, "string" for text, undefined if unknown. */
export function expectedUnit(c: SelectedColumn): string | undefined {
  if (c.fieldRegex !== undefined) return UNIT_BY_FIELD_REGEX[c.fieldRegex];
  if (c.field === undefined) return undefined;
  if (TEXT_COLUMNS.has(c.field)) return "string";
  return UNIT_BY_SUFFIX.find(([suffix]) => suffix.test(c.field as string))?.[1];
}

function where(d: Dashboard, p?: Panel): string {
  return p ? `${d.uid}: panel "${p.title}"` : d.uid;
}

/** Every dashboard in dashboards/ has one of the fixed uids, named after its file, and each uid is there once. */
export function lintUids(files: readonly DashboardFile[]): string[] {
  const problems: string[] = [];
  for (const { file, dashboard } of files) {
    if (!(DASHBOARD_UIDS as readonly string[]).includes(dashboard.uid))
      problems.push(
        `${file}: uid ${JSON.stringify(dashboard.uid)} is not one of ${DASHBOARD_UIDS.join(", ")}`,
      );
    if (file !== `${dashboard.uid}.json`)
      problems.push(`${file}: uid ${dashboard.uid} must be the file's name (${dashboard.uid}.json)`);
  }
  for (const uid of DASHBOARD_UIDS) {
    const n = files.filter((f) => f.dashboard.uid === uid).length;
    if (n !== 1) problems.push(`uid ${uid}: found in ${n} dashboards, expected exactly 1`);
  }
  return problems;
}

/**
 * Every panel has a unit, and it is the unit of what the panel selects: a time series panel shows one
 * unit (the one of every field it selects), a table's columns each have theirs (override by name).
 */
export function lintUnits(d: Dashboard): string[] {
  const problems: string[] = [];
  for (const p of queryPanels(d)) {
    const unit = p.fieldConfig?.defaults.unit;
    if (!unit) {
      problems.push(`${where(d, p)} has no unit: set fieldConfig.defaults.unit`);
      continue;
    }
    for (const t of p.targets ?? []) {
      for (const c of selectedColumns(t.query)) {
        const expected = expectedUnit(c);
        if (expected === undefined) {
          problems.push(
            `${where(d, p)} selects ${c.column}, whose unit the lint cannot tell: add it to the lint`,
          );
          continue;
        }
        if (p.type === "table") {
          const override = p.fieldConfig?.overrides.find(
            (o) => o.matcher.id === "byName" && o.matcher.options === c.column,
          );
          const actual =
            (override?.properties.find((x) => x.id === "unit")?.value as string | undefined) ?? unit;
          if (actual !== expected)
            problems.push(`${where(d, p)} column ${c.column} has unit ${actual}, expected ${expected}`);
        } else if (expected !== unit) {
          problems.push(`${where(d, p)} has unit ${unit} but selects ${c.field ?? c.column} (${expected})`);
        }
      }
    }
  }
  return problems;
}

/** All SELECT queries of a dashboard: panel targets and annotations. */
export function selectQueries(d: Dashboard): { where: string; query: string }[] {
  return [
    ...queryPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: where(d, p), query: t.query }))),
    ...influxAnnotations(d).map((a) => ({ where: `${d.uid}: annotation "${a.name}"`, query: a.query ?? "" })),
  ];
}

/** Every SELECT is bounded by the dashboard's time range. */
export function lintTimeFilter(d: Dashboard): string[] {
  return selectQueries(d)
    .filter(({ query }) => !query.includes("$timeFilter"))
    .map(({ where: w, query }) => `${w}: query has no $timeFilter: ${query}`);
}

/**
 * Every `$var` a query, title, repeat or link uses is a variable of the dashboard (or Grafana's own),
 * and a variable's query uses only variables defined before it (Grafana resolves them in that order).
 */
export function lintVariables(d: Dashboard): string[] {
  const problems: string[] = [];
  const defined = new Set(d.templating.list.map((v) => v.name));
  const check = (w: string, text: string | undefined, alias = false) => {
    for (const name of variableRefs(text ?? "")) {
      if (isBuiltIn(name) || defined.has(name) || (alias && ALIAS_PATTERN.test(name))) continue;
      problems.push(`${w} uses $${name}, which is not a variable of the dashboard: define it or remove it`);
    }
  };
  for (const p of d.panels.flatMap((x) => [x, ...(x.panels ?? [])])) {
    check(where(d, p), p.title);
    if (p.repeat !== undefined && !defined.has(p.repeat))
      problems.push(`${where(d, p)} repeats by ${p.repeat}, which is not a variable of the dashboard`);
    for (const t of p.targets ?? []) {
      check(where(d, p), t.query);
      check(where(d, p), t.alias, true);
    }
    const links = [
      ...(p.fieldConfig?.defaults.links ?? []),
      ...(p.fieldConfig?.overrides ?? []).flatMap((o) =>
        o.properties.filter((x) => x.id === "links").flatMap((x) => x.value as { url: string }[]),
      ),
    ];
    for (const l of links) check(`${where(d, p)} link`, l.url);
  }
  for (const a of influxAnnotations(d)) check(`${d.uid}: annotation "${a.name}"`, a.query);
  d.templating.list.forEach((v, i) => {
    const earlier = new Set(d.templating.list.slice(0, i).map((x) => x.name));
    for (const name of variableRefs(v.query ?? "")) {
      if (isBuiltIn(name) || earlier.has(name)) continue;
      problems.push(
        `${d.uid}: variable ${v.name}'s query uses $${name}, which is not a variable defined before it`,
      );
    }
  });
  return problems;
}

/**
 * Every datasource reference (panels, targets, variables, annotations) is the provisioned InfluxDB
 * by uid, never by name or URL, and the dashboard holds no absolute URL.
 */
export function lintDatasources(d: Dashboard, uid: string): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node === "string") {
      if (/^https?:\/\//i.test(node) || node.includes("${DS_"))
        problems.push(
          `${d.uid}: ${path} is ${JSON.stringify(node)}: no absolute URL or import input in a dashboard`,
        );
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((x, i) => {
        walk(x, `${path}[${i}]`);
      });
      return;
    }
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "datasource") {
        const ref = value as { type?: string; uid?: string } | string | null;
        const builtInAnnotation = (node as Annotation).builtIn === 1;
        const ok =
          typeof ref === "object" &&
          ref !== null &&
          (builtInAnnotation ? ref.type === "grafana" : ref.type === "influxdb" && ref.uid === uid);
        if (!ok)
          problems.push(
            `${d.uid}: ${path}.datasource is ${JSON.stringify(ref)}: use { "type": "influxdb", "uid": "${uid}" }`,
          );
      }
      walk(value, `${path}.${key}`);
    }
  };
  walk(d, "dashboard");
  for (const p of queryPanels(d)) {
    if (p.datasource === undefined) problems.push(`${where(d, p)} has no datasource`);
    for (const t of p.targets ?? [])
      if (t.datasource === undefined) problems.push(`${where(d, p)} target ${t.refId} has no datasource`);
  }
  for (const v of d.templating.list)
    if (v.type === "query" && v.datasource === undefined)
      problems.push(`${d.uid}: variable ${v.name} has no datasource`);
  return problems;
}

/**
 * Every InfluxDB annotation is enabled, has its query both where old and new Grafana read it (top level
 * and `target`), and maps columns its query selects; tags come from text columns (Grafana splits them
 * on commas).
 */
export function lintAnnotations(d: Dashboard): string[] {
  const problems: string[] = [];
  for (const a of influxAnnotations(d)) {
    const w = `${d.uid}: annotation "${a.name}"`;
    if (!a.query || !/^\s*SELECT\s/i.test(a.query)) {
      problems.push(`${w} has no SELECT query`);
      continue;
    }
    if (!a.enable) problems.push(`${w} is not enabled`);
    if (a.target?.query !== a.query) problems.push(`${w}: target.query must equal query`);
    const columns = new Map(selectedColumns(a.query).map((c) => [c.column, c]));
    for (const key of ["textColumn", "titleColumn", "tagsColumn"] as const) {
      if (a.target?.[key] !== a[key]) problems.push(`${w}: target.${key} must equal ${key}`);
      const value = a[key];
      if (value === undefined) {
        if (key === "textColumn") problems.push(`${w} has no textColumn`);
        continue;
      }
      for (const name of value.split(",").map((s) => s.trim())) {
        const c = columns.get(name);
        if (!c) problems.push(`${w}: ${key} ${name} is not a column its query selects`);
        else if (key === "tagsColumn" && expectedUnit(c) !== "string")
          problems.push(`${w}: tagsColumn ${name} is not a text column`);
      }
    }
  }
  return problems;
}

/** The run dashboard takes the daemon's link: single-valued bench, channel and run variables. */
export function lintRunLinkTarget(d: Dashboard): string[] {
  const problems: string[] = [];
  for (const name of ["bench", "channel", "run"]) {
    const v = d.templating.list.find((x) => x.name === name);
    if (!v) problems.push(`${d.uid}: no variable ${name} (the daemon's link sets var-${name})`);
    else if (v.multi || v.includeAll)
      problems.push(`${d.uid}: variable ${name} must be single-valued (the link selects one run)`);
  }
  return problems;
}

/** Every rule over one dashboard. */
export function lintDashboard(d: Dashboard, datasourceUid: string): string[] {
  return [
    ...lintUnits(d),
    ...lintTimeFilter(d),
    ...lintVariables(d),
    ...lintDatasources(d, datasourceUid),
    ...lintAnnotations(d),
    ...(d.uid === "cellbench-run" ? lintRunLinkTarget(d) : []),
  ];
}

const ENV_REF = /^\$\{?([A-Z0-9_]+)\}?$/;

/**
 * The datasource's URL and database and the dashboards' folder come from Grafana's environment
 * (nothing hard-coded), and the datasource uid is the one the dashboards use.
 */
export function lintProvisioning(
  ds: DatasourceProvisioning,
  dash: DashboardProvisioning,
  uid: string,
): string[] {
  const problems: string[] = [];
  const source = ds.datasources.find((s) => s.uid === uid);
  if (!source)
    problems.push(`datasources/cellbench.yaml: no datasource with uid ${uid} (the dashboards use it)`);
  else {
    if (source.type !== "influxdb")
      problems.push(`datasource ${uid}: type ${source.type}, expected influxdb`);
    if (ENV_REF.exec(source.url ?? "")?.[1] !== "INFLUX_URL")
      problems.push(`datasource ${uid}: url ${JSON.stringify(source.url)}, expected \${INFLUX_URL}`);
    for (const [key, value] of [
      ["database", source.database],
      ["jsonData.dbName", source.jsonData?.dbName],
    ] as const)
      if (ENV_REF.exec(value ?? "")?.[1] !== "INFLUX_DB")
        problems.push(`datasource ${uid}: ${key} ${JSON.stringify(value)}, expected \${INFLUX_DB}`);
  }
  const provider = dash.providers.find((p) => p.type === "file");
  if (!provider) problems.push("dashboards/cellbench.yaml: no file provider");
  else if (ENV_REF.exec(provider.options.path ?? "")?.[1] !== "CELLBENCH_DASHBOARDS")
    problems.push(
      `dashboard provider ${provider.name}: options.path ${JSON.stringify(provider.options.path)}, expected \${CELLBENCH_DASHBOARDS}`,
    );
  return problems;
}

import { describe, expect, it } from "vitest";
import {
  DASHBOARD_UIDS,
  lintAnnotations,
  lintDashboard,
  lintDatasources,
  lintProvisioning,
  lintRunLinkTarget,
  lintTimeFilter,
  lintUids,
  lintUnits,
  lintVariables,
  selectedColumns,
} from "./dashboard-lint.js";
import type { Dashboard, DashboardFile } from "./dashboard-model.js";
import { influxAnnotations, loadDashboards, loadProvisioning, queryPanels } from "./dashboard-model.js";
import { expandProvisioningEnv } from "./grafana-interpolation.js";

const files = loadDashboards();
const provisioning = loadProvisioning();
const UID = "cellbench-influx";

function copyOf(uid: string): Dashboard {
  const found = files.find((f) => f.dashboard.uid === uid);
  if (!found) throw new Error(`no dashboard ${uid}`);
  return structuredClone(found.dashboard);
}
function panel(d: Dashboard, title: string) {
  const p = queryPanels(d).find((x) => x.title === title);
  if (!p) throw new Error(`no panel ${title} in ${d.uid}`);
  return p;
}
function firstTarget(d: Dashboard, title: string) {
  return panel(d, title).targets?.[0] as { query: string; alias?: string; datasource?: unknown };
}

describe("dashboard lint: the dashboards as committed", () => {
  it("has the three dashboards under their fixed uids", () => {
    expect(files.map((f) => f.dashboard.uid).sort()).toEqual([...DASHBOARD_UIDS]);
    expect(lintUids(files)).toEqual([]);
  });

  it.each(files.map((f) => [f.dashboard.uid, f.dashboard] as const))("%s passes every rule", (_uid, d) => {
    expect(lintDashboard(d, UID)).toEqual([]);
  });

  it("uses the datasource uid the provisioning file defines, and takes URL, database and folder from the environment", () => {
    expect(provisioning.datasources.datasources.map((s) => s.uid)).toContain(UID);
    expect(lintProvisioning(provisioning.datasources, provisioning.dashboards, UID)).toEqual([]);
  });

  it("gives Grafana the daemon's InfluxDB once INFLUX_URL, INFLUX_DB and CELLBENCH_DASHBOARDS are set", () => {
    const env = {
      INFLUX_URL: "http://192.0.2.10:8086",
      INFLUX_DB: "lab",
      CELLBENCH_DASHBOARDS: "/opt/cellbench/dashboards",
    };
    const source = provisioning.datasources.datasources[0]!;
    expect(expandProvisioningEnv(source.url ?? "", env)).toBe("http://192.0.2.10:8086");
    expect(expandProvisioningEnv(source.jsonData?.dbName ?? "", env)).toBe("lab");
    expect(expandProvisioningEnv(source.database ?? "", env)).toBe("lab");
    expect(expandProvisioningEnv(provisioning.dashboards.providers[0]!.options.path ?? "", env)).toBe(
      "/opt/cellbench/dashboards",
    );
    // Grafana has no default syntax: an unset variable leaves the URL empty (the README says to set it).
    expect(expandProvisioningEnv(source.url ?? "", {})).toBe("");
  });

  it("puts every run's state changes on the run dashboard as annotations", () => {
    const run = files.find((f) => f.dashboard.uid === "cellbench-run")!.dashboard;
    const [events] = influxAnnotations(run);
    expect(events?.query).toContain(`FROM "raw"."run_event"`);
    expect(events?.textColumn).toBe("reason");
  });
});

/** Each rule, run on a copy broken the way it guards against, finds the fault. */
describe("dashboard lint: each rule can fail", () => {
  it("uids: a changed uid, a file named otherwise, a missing dashboard", () => {
    const changed: DashboardFile[] = files.map((f) =>
      f.dashboard.uid === "cellbench-run" ? { ...f, dashboard: { ...f.dashboard, uid: "run-2" } } : f,
    );
    expect(lintUids(changed)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('uid "run-2" is not one of'),
        "uid cellbench-run: found in 0 dashboards, expected exactly 1",
      ]),
    );
    const renamed = files.map((f) =>
      f.dashboard.uid === "cellbench-bench" ? { ...f, file: "bench.json" } : f,
    );
    expect(lintUids(renamed)).toEqual([
      "bench.json: uid cellbench-bench must be the file's name (cellbench-bench.json)",
    ]);
  });

  it("units: a panel without a unit", () => {
    const d = copyOf("cellbench-run");
    delete panel(d, "Voltage").fieldConfig?.defaults.unit;
    expect(lintUnits(d)).toEqual([
      'cellbench-run: panel "Voltage" has no unit: set fieldConfig.defaults.unit',
    ]);
  });

  it("units: the wrong unit for what the panel selects (Ah shown as A)", () => {
    const d = copyOf("cellbench-run");
    panel(d, "Capacity since the run started").fieldConfig!.defaults.unit = "amp";
    expect(lintUnits(d)).toContain(
      'cellbench-run: panel "Capacity since the run started" has unit amp but selects charge_ah (amph)',
    );
  });

  it("units: a table column whose override is missing or wrong", () => {
    const d = copyOf("cellbench-run");
    const cycles = panel(d, "Cycles");
    cycles.fieldConfig!.overrides = cycles.fieldConfig!.overrides.filter(
      (o) => o.matcher.options !== "coulombic_efficiency",
    );
    expect(lintUnits(d)).toEqual([
      'cellbench-run: panel "Cycles" column coulombic_efficiency has unit amph, expected percentunit',
    ]);
  });

  it("units: a field the lint cannot tell the unit of", () => {
    const d = copyOf("cellbench-bench");
    const t = firstTarget(d, "Voltage");
    t.query = t.query.replace(`mean("voltage_v")`, `mean("voltage")`);
    expect(lintUnits(d)).toEqual([
      'cellbench-bench: panel "Voltage" selects mean, whose unit the lint cannot tell: add it to the lint',
    ]);
  });

  it("$timeFilter: a panel query and an annotation query without it", () => {
    const d = copyOf("cellbench-run");
    const t = firstTarget(d, "Current (+ charge, − discharge)");
    t.query = t.query.replace(" AND $timeFilter", "");
    const [a] = influxAnnotations(d);
    a!.query = a!.query!.replace(" AND $timeFilter", "");
    const problems = lintTimeFilter(d);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^cellbench-run: panel "Current \(\+ charge, − discharge\)": query has no \$timeFilter/,
    );
    expect(problems[1]).toMatch(/^cellbench-run: annotation "Run events": query has no \$timeFilter/);
  });

  it("variables: a query, a title, an alias and a link using undefined variables", () => {
    const d = copyOf("cellbench-bench");
    const t = firstTarget(d, "Voltage");
    t.query = t.query.replace(`"channel" =~ /^$channel$/`, `"cell" =~ /^$cell$/`);
    t.alias = "$tag_channel $unit";
    panel(d, "Power (+ charge)").title = `Power of \${rig}`;
    const now = panel(d, "Channels now (last sample in the time range)");
    const link = now.fieldConfig!.overrides.flatMap((o) => o.properties).find((x) => x.id === "links")!;
    (link.value as { url: string }[])[0]!.url += `&var-x=\${station}`;
    expect(lintVariables(d)).toEqual([
      expect.stringContaining('panel "Channels now (last sample in the time range)" link uses $station'),
      'cellbench-bench: panel "Voltage" uses $cell, which is not a variable of the dashboard: define it or remove it',
      'cellbench-bench: panel "Voltage" uses $unit, which is not a variable of the dashboard: define it or remove it',
      `cellbench-bench: panel "Power of \${rig}" uses $rig, which is not a variable of the dashboard: define it or remove it`,
    ]);
  });

  it("variables: a chained variable listed before the one it depends on, a repeat by an unknown variable", () => {
    const d = copyOf("cellbench-chamber");
    d.templating.list.reverse();
    d.panels[0]!.repeat = "room";
    expect(lintVariables(d)).toEqual([
      'cellbench-chamber: panel "Chamber $chamber" repeats by room, which is not a variable of the dashboard',
      "cellbench-chamber: variable chamber's query uses $bench, which is not a variable defined before it",
    ]);
  });

  it("datasource: another uid, a datasource by name, a target without one, a hard-coded URL", () => {
    const d = copyOf("cellbench-chamber");
    const [pvsp, output] = queryPanels(d);
    pvsp!.datasource = { type: "influxdb", uid: "P951FEA4DE68E13C5" };
    (output!.targets![0] as { datasource?: unknown }).datasource = "InfluxDB";
    delete (pvsp!.targets![1] as { datasource?: unknown }).datasource;
    (d as unknown as { links: { url: string }[] }).links = [{ url: "http://127.0.0.1:8086/query" }];
    expect(lintDatasources(d, UID)).toEqual([
      'cellbench-chamber: dashboard.links[0].url is "http://127.0.0.1:8086/query": no absolute URL or import input in a dashboard',
      expect.stringContaining(
        'dashboard.panels[1].datasource is {"type":"influxdb","uid":"P951FEA4DE68E13C5"}: use { "type": "influxdb", "uid": "cellbench-influx" }',
      ),
      expect.stringContaining('dashboard.panels[2].targets[0].datasource is "InfluxDB"'),
      'cellbench-chamber: panel "$chamber: temperature (PV) and setpoint (SP)" target B has no datasource',
    ]);
  });

  it("annotations: a column the query does not select, a numeric tags column, a stale target, disabled", () => {
    const d = copyOf("cellbench-run");
    const [a] = influxAnnotations(d);
    a!.textColumn = "message";
    a!.target!.textColumn = "message";
    a!.tagsColumn = "step_index";
    a!.target!.tagsColumn = "step_index";
    a!.target!.query = "SELECT 1";
    a!.enable = false;
    expect(lintAnnotations(d)).toEqual([
      'cellbench-run: annotation "Run events" is not enabled',
      'cellbench-run: annotation "Run events": target.query must equal query',
      'cellbench-run: annotation "Run events": textColumn message is not a column its query selects',
      'cellbench-run: annotation "Run events": tagsColumn step_index is not a text column',
    ]);
  });

  it("run link: a run variable that allows several runs", () => {
    const d = copyOf("cellbench-run");
    const run = d.templating.list.find((v) => v.name === "run")!;
    run.multi = true;
    d.templating.list = d.templating.list.filter((v) => v.name !== "channel");
    expect(lintRunLinkTarget(d)).toEqual([
      "cellbench-run: no variable channel (the daemon's link sets var-channel)",
      "cellbench-run: variable run must be single-valued (the link selects one run)",
    ]);
  });

  it("provisioning: a hard-coded URL, database and folder, another uid", () => {
    const ds = structuredClone(provisioning.datasources);
    const dash = structuredClone(provisioning.dashboards);
    ds.datasources[0]!.url = "http://127.0.0.1:8086";
    ds.datasources[0]!.jsonData!.dbName = "cellbench";
    dash.providers[0]!.options.path = "/etc/grafana/dashboards/cellbench";
    expect(lintProvisioning(ds, dash, UID)).toEqual([
      `datasource cellbench-influx: url "http://127.0.0.1:8086", expected \${INFLUX_URL}`,
      `datasource cellbench-influx: jsonData.dbName "cellbench", expected \${INFLUX_DB}`,
      `dashboard provider cellbench: options.path "/etc/grafana/dashboards/cellbench", expected \${CELLBENCH_DASHBOARDS}`,
    ]);
    ds.datasources[0]!.uid = "influx";
    expect(lintProvisioning(ds, dash, UID)[0]).toBe(
      "datasources/cellbench.yaml: no datasource with uid cellbench-influx (the dashboards use it)",
    );
  });
});

describe("select-list parsing (what the unit and annotation rules read)", () => {
  it("reads fields, functions, aliases, tags and regex selections", () => {
    expect(
      selectedColumns(
        `SELECT last("voltage_v") AS "v", "state", mean(/^temperature_c_/), max("current_a") FROM "raw"."cell" WHERE x`,
      ),
    ).toEqual([
      { column: "v", field: "voltage_v" },
      { column: "state", field: "state" },
      { column: "mean", fieldRegex: "^temperature_c_" },
      { column: "max", field: "current_a" },
    ]);
  });
});

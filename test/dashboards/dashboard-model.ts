/**
 * The parts of Grafana's dashboard JSON (schemaVersion 39) and provisioning YAML that the lint and
 * the query test read, and where the files are.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const DASHBOARDS_DIR = join(import.meta.dirname, "..", "..", "dashboards");
export const PROVISIONING_DIR = join(DASHBOARDS_DIR, "provisioning");

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  datasource?: DatasourceRef | string | null;
  rawQuery?: boolean;
  resultFormat?: string;
  query: string;
  alias?: string;
}

export interface DataLink {
  title: string;
  url: string;
}

export interface Override {
  matcher: { id: string; options: string };
  properties: { id: string; value: unknown }[];
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DatasourceRef | string | null;
  repeat?: string;
  fieldConfig?: { defaults: { unit?: string; links?: DataLink[] }; overrides: Override[] };
  targets?: Target[];
  /** Panels of a collapsed row. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  label?: string;
  datasource?: DatasourceRef | string | null;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  /** 1: alphabetical ascending, 2: alphabetical descending. */
  sort?: number;
}

export interface AnnotationColumns {
  textColumn?: string;
  titleColumn?: string;
  tagsColumn?: string;
}

export interface Annotation extends AnnotationColumns {
  builtIn?: number;
  datasource?: DatasourceRef | string | null;
  enable: boolean;
  name: string;
  query?: string;
  target?: AnnotationColumns & { query?: string; rawQuery?: boolean };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
  links?: { url?: string }[];
}

export interface DashboardFile {
  /** File name within dashboards/, e.g. cellbench-run.json. */
  file: string;
  dashboard: Dashboard;
}

/** Every dashboard Grafana's file provider would load from dashboards/ (it reads *.json). */
export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), "utf8")) as Dashboard,
    }));
}

export function loadDashboard(uid: string): Dashboard {
  const found = loadDashboards().find((d) => d.dashboard.uid === uid);
  if (!found) throw new Error(`no dashboard with uid ${uid} in ${DASHBOARDS_DIR}`);
  return found.dashboard;
}

export interface DatasourceProvisioning {
  apiVersion: number;
  datasources: {
    name: string;
    uid?: string;
    type: string;
    access?: string;
    url?: string;
    database?: string;
    jsonData?: { dbName?: string; version?: string; httpMode?: string };
  }[];
}

export interface DashboardProvisioning {
  apiVersion: number;
  providers: { name: string; type: string; folder?: string; options: { path?: string } }[];
}

export function loadProvisioning(): {
  datasources: DatasourceProvisioning;
  dashboards: DashboardProvisioning;
} {
  const read = (sub: string) =>
    parse(readFileSync(join(PROVISIONING_DIR, sub, "cellbench.yaml"), "utf8")) as unknown;
  return {
    datasources: read("datasources") as DatasourceProvisioning,
    dashboards: read("dashboards") as DashboardProvisioning,
  };
}

/** Panels with queries, rows' nested panels included (rows themselves have none). */
export function queryPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
}

/** The InfluxDB annotations (not Grafana's built-in one). */
export function influxAnnotations(d: Dashboard): Annotation[] {
  return d.annotations.list.filter((a) => a.builtIn !== 1);
}

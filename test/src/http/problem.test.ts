import { describe, expect, it } from "vitest";
import { CellbenchError } from "../../../protocols/cellbench-error.js";
import { UnknownChannelError } from "../../../src/bench/bench-errors.js";
import { CellError } from "../../../src/cell/cell.js";
import { InvalidTransitionError } from "../../../src/engine/run-errors.js";
import { BusyError, HttpProtocolError } from "../../../src/http/http-errors.js";
import { ERROR_STATUS, problemOf, validationIssues } from "../../../src/http/problem.js";
import { ProfileError } from "../../../src/profile/profile-error.js";
import { UnknownRunError } from "../../../src/run/run-errors.js";

describe("problemOf", () => {
  it("maps the codes of the issue to their statuses through the one table", () => {
    const cases: [CellbenchError, number][] = [
      [new InvalidTransitionError("R20260101-0001", "completed", "pause"), 409],
      [new UnknownChannelError("ch9", ["ch1"]), 404],
      [new UnknownRunError("R20260101-0009"), 404],
      [new CellbenchError("CHANNEL_BUSY", "busy"), 409],
      [new CellbenchError("CHAMBER_OWNED", "owned"), 409],
      [new CellbenchError("CHANNEL_FAULTED", "faulted"), 409],
      [new ProfileError([{ path: "steps[1]", message: "bad" }]), 422],
      [new CellError([{ path: "current", message: "bad" }]), 422],
    ];
    for (const [err, status] of cases) {
      const { problem } = problemOf(err, "/x");
      expect(problem.status, err.code).toBe(status);
      expect(problem.code).toBe(err.code);
      expect(problem.type).toBe(`urn:cellbench:problem:${err.code.toLowerCase().replaceAll("_", "-")}`);
      expect(problem.instance).toBe("/x");
      expect(ERROR_STATUS[err.code]?.status).toBe(status);
    }
  });

  it("carries the issues of validation errors and names the first in the detail", () => {
    const err = new ProfileError([
      { path: "body.profile.steps[2]", message: "current 9 A exceeds the cell's 6 A" },
      { path: "body.profile.steps[4]", message: "unknown unit" },
    ]);
    const { problem, expected } = problemOf(err, "/api/v1/runs");
    expect(expected).toBe(true);
    expect(problem.issues).toEqual(err.issues);
    expect(problem.detail).toBe(
      "body.profile.steps[2]: current 9 A exceeds the cell's 6 A (and 1 more problem, see issues)",
    );
  });

  it("answers 500 without internals for unknown errors and codes", () => {
    const plain = problemOf(new TypeError("secret internals"), "/x");
    expect(plain.problem.status).toBe(500);
    expect(plain.problem.code).toBe("INTERNAL");
    expect(plain.problem.detail).not.toContain("secret");
    expect(plain.expected).toBe(false);
    expect(problemOf(new CellbenchError("SOMETHING_NEW", "x"), "/x").problem.status).toBe(500);
  });

  it("adds Retry-After for errors that know when to retry, and keeps protocol errors' status", () => {
    expect(problemOf(new BusyError("DRY_RUN_BUSY", "busy", 5), "/x").headers).toEqual({ "retry-after": "5" });
    const limited = problemOf(new HttpProtocolError("RATE_LIMITED", 429, "slow down"), "/x");
    expect(limited.problem.status).toBe(429);
    expect(limited.problem.code).toBe("RATE_LIMITED");
  });

  it("turns fastify's own errors into problems with our codes", () => {
    const tooLarge = Object.assign(new Error("Request body is too large"), {
      code: "FST_ERR_CTP_BODY_TOO_LARGE",
      statusCode: 413,
    });
    const p = problemOf(tooLarge, "/x").problem;
    expect([p.status, p.code]).toEqual([413, "BODY_TOO_LARGE"]);
    const media = Object.assign(new Error("Unsupported Media Type"), {
      code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
      statusCode: 415,
    });
    expect(problemOf(media, "/x").problem.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("validationIssues", () => {
  it("names fields as body.x.y and array items as [i]", () => {
    const issues = validationIssues(
      [
        { instancePath: "", keyword: "required", params: { missingProperty: "channel" }, message: "x" },
        {
          instancePath: "/cell/voltage/1",
          keyword: "type",
          params: { type: "number" },
          message: "must be number",
        },
        { instancePath: "", keyword: "additionalProperties", params: { additionalProperty: "chanel" } },
        { instancePath: "/state", keyword: "enum", params: { allowedValues: ["a", "b"] } },
      ],
      "body",
    );
    expect(issues).toEqual([
      { path: "body.channel", message: "missing; add it" },
      { path: "body.cell.voltage[1]", message: "must be a number" },
      { path: "body.chanel", message: "unknown field; remove it or check its spelling" },
      { path: "body.state", message: 'must be one of "a", "b"' },
    ]);
  });

  it("says which types a union accepts", () => {
    const issues = validationIssues(
      [
        { instancePath: "/profile", keyword: "type", params: { type: "string" } },
        { instancePath: "/profile", keyword: "type", params: { type: "object" } },
        { instancePath: "/profile", keyword: "anyOf", params: {} },
      ],
      "body",
    );
    expect(issues).toEqual([{ path: "body.profile", message: "must be a string or an object" }]);
  });
});

/**
 * Which of the official MCP conformance suite's server scenarios apply to this server, per protocol revision, and
 * why the others do not; and the judge that turns the suite's checks into pass/fail under that table.
 *
 * Suite: @modelcontextprotocol/conformance 0.2.0-alpha.12 (the newest on npm; the `latest` tag, 0.1.16, has no
 * 2026-07-28 scenarios at all and its server scenarios are a subset of this version's 2025 ones). Revisions run:
 * 2025-06-18 (`--spec-version`, the active suite), 2025-11-25 and 2026-07-28 (`--requirements`, the scenarios the
 * revision requires, frozen at its release, at that revision's wire).
 *
 * Rules of the judge:
 * - An applicable scenario passes when none of its checks is a FAILURE (except the checks listed in `except`,
 *   each with the reason it is not ours to pass), and at least one check besides `wire-schema-valid` succeeded
 *   (a scenario the suite silently skips does not pass).
 * - An excluded scenario still runs, and its `wire-schema-valid` check (every message our server sent is valid
 *   against the revision's JSON schema) must not fail: that one is ours whatever the scenario needed.
 * - WARNING, INFO and SKIPPED never fail; warnings are reported.
 * - The scenarios run must be exactly the table's for the revision, and the suite's catalog (`list --server`)
 *   exactly the table's plus NOT_RUN: a new or renamed scenario needs a decision here.
 */

export const SUITE_VERSION = "0.2.0-alpha.12";

/** Protocol revisions the suite is run at (those /mcp serves and the suite knows). */
export const REVISIONS = ["2025-06-18", "2025-11-25", "2026-07-28"] as const;
export type Revision = (typeof REVISIONS)[number];

/**
 * The tasks extension (`io.modelcontextprotocol/tasks`: tasks/get, tasks/update, tasks/cancel, src/shared/tasks/)
 * is served: its scenarios' checks count, minus the ones listed (which need the suite's own task tools:
 * slow_compute, greet, failing_job, …). While it was being built on another branch this was false (the scenarios
 * ran and were reported but did not count).
 */
export const TASKS_EXTENSION_MERGED = true;

/** One check of the suite's output (`checks.json`). */
export interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED" | string;
  errorMessage?: string;
  details?: unknown;
}

type Verdict =
  | {
      applies: true;
      /** Checks that are not ours to pass: check id → why. */
      except?: Record<string, string>;
      /** Counted only once TASKS_EXTENSION_MERGED. */
      pendingTasksBranch?: true;
    }
  | { applies: false; reason: string };

const ALL_2025 = ["2025-06-18", "2025-11-25"] as const;
const ALL = REVISIONS;

// Reasons, once each.
const testTool = (tool: string) =>
  `needs the suite's reference ("everything") server test tool \`${tool}\`; our catalog is Airtable's tools, and test tools do not belong in the product`;
const NO_PROMPTS =
  "we offer no prompts (no `prompts` capability): -32601 Method not found is the spec's answer, the scenario expects the reference server's prompts";
const NO_RESOURCES =
  "we offer no resources (no `resources` capability): -32601 Method not found is the spec's answer, the scenario expects the reference server's resources";
const NO_LOGGING =
  "we send no log messages to clients (no `logging` capability), so logging/setLevel is -32601 Method not found, as the spec has it";
const NO_COMPLETIONS = "we offer no prompts or resource templates to complete (no `completions` capability)";
const STATELESS =
  "/mcp is stateless (no Mcp-Session-Id, GET /mcp is 405): the scenario needs a session; the suite only warns or skips without one";
const MRTR_TOOL = (tool: string) =>
  `SEP-2322 input-required results: our tools never ask the client for input (no elicitation, sampling or roots); ${testTool(tool)}`;
const DIAGNOSTIC_TOOL = "needs the suite's diagnostic tool";
/** Tasks checks no server but the reference one can pass: they call the suite's own task tools. */
const TASK_TOOLS =
  "tasks extension: needs the suite's own task test tools, so not testable here even once the tasks branch is merged";

const applies = (except?: Record<string, string>): Verdict => (except ? { applies: true, except } : { applies: true });
const excluded = (reason: string): Verdict => ({ applies: false, reason });
const at = (revisions: readonly Revision[], verdict: Verdict): Partial<Record<Revision, Verdict>> =>
  Object.fromEntries(revisions.map((r) => [r, verdict]));

/** Every server scenario the runs produce, with its verdict at each revision it runs at. */
export const SCENARIOS: Record<string, Partial<Record<Revision, Verdict>>> = {
  // Lifecycle and transport.
  "server-initialize": at(ALL_2025, applies()),
  ping: at(ALL_2025, applies()),
  "server-session-lifecycle": at(ALL_2025, excluded(STATELESS)),
  "server-stateless": at(
    ["2026-07-28"],
    applies({
      "sep-2575-server-rejects-undeclared-capability": `${DIAGNOSTIC_TOOL} \`test_missing_capability\` (a tool that needs a client capability; none of ours does)`,
      "sep-2575-missing-capability-http-400": `${DIAGNOSTIC_TOOL} \`test_missing_capability\``,
      "sep-2575-http-server-no-independent-requests-on-stream": `${DIAGNOSTIC_TOOL} \`test_streaming_elicitation\` (we never send requests to the client)`,
      "sep-2575-server-no-log-without-loglevel": `${DIAGNOSTIC_TOOL} \`test_logging_tool\` (we send no log messages)`,
    }),
  ),
  "server-sse-multiple-streams": {
    ...at(["2025-11-25"], excluded(STATELESS)),
    ...at(["2026-07-28"], applies()),
  },
  "server-sse-polling": at(["2025-11-25"], excluded(`${STATELESS}; and ${testTool("test_reconnection")}`)),
  "dns-rebinding-protection": at(["2025-11-25", "2026-07-28"], applies()),
  "http-header-validation": at(["2026-07-28"], applies()),
  "http-custom-header-server-validation": at(
    ["2026-07-28"],
    excluded(
      "SEP-2243 custom headers: none of our tools declares an `x-mcp-header` parameter; the suite reports every check as not testable",
    ),
  ),
  caching: at(
    ["2026-07-28"],
    applies({
      "sep-2549-prompts-list-caching-hints": `${NO_PROMPTS} (the suite fails the check instead of skipping it)`,
      "sep-2549-resources-list-caching-hints": `${NO_RESOURCES} (the suite fails the check instead of skipping it)`,
      "sep-2549-resources-templates-list-caching-hints": `${NO_RESOURCES} (the suite fails the check instead of skipping it)`,
    }),
  ),

  // Tools.
  "tools-list": at(ALL, applies()),
  "tools-call-simple-text": at(ALL, excluded(testTool("test_simple_text"))),
  "tools-call-image": at(ALL, excluded(testTool("test_image_content"))),
  "tools-call-audio": at(ALL, excluded(testTool("test_audio_content"))),
  "tools-call-embedded-resource": at(ALL, excluded(testTool("test_embedded_resource"))),
  "tools-call-mixed-content": at(ALL, excluded(testTool("test_multiple_content_types"))),
  "tools-call-error": at(ALL, excluded(testTool("test_error_handling"))),
  "tools-call-with-progress": at(ALL, excluded(testTool("test_tool_with_progress"))),
  "tools-call-with-logging": at(ALL_2025, excluded(`${NO_LOGGING}; and ${testTool("test_tool_with_logging")}`)),
  "tools-call-sampling": at(ALL_2025, excluded(testTool("test_sampling"))),
  "tools-call-elicitation": at(ALL_2025, excluded(testTool("test_elicitation"))),
  "elicitation-sep1034-defaults": at(["2025-11-25"], excluded(testTool("test_elicitation_sep1034_defaults"))),
  "elicitation-sep1330-enums": at(["2025-11-25"], excluded(testTool("test_elicitation_sep1330_enums"))),
  "json-schema-2020-12": at(["2025-11-25", "2026-07-28"], excluded(testTool("json_schema_2020_12_tool"))),

  // Logging, completions, resources, prompts: capabilities we do not offer.
  "logging-set-level": at(ALL_2025, excluded(NO_LOGGING)),
  "completion-complete": at(ALL, excluded(NO_COMPLETIONS)),
  "resources-list": at(ALL, excluded(NO_RESOURCES)),
  "resources-read-text": at(ALL, excluded(NO_RESOURCES)),
  "resources-read-binary": at(ALL, excluded(NO_RESOURCES)),
  "resources-templates-read": at(ALL, excluded(NO_RESOURCES)),
  "resources-subscribe": at(ALL_2025, excluded(NO_RESOURCES)),
  "resources-unsubscribe": at(ALL_2025, excluded(NO_RESOURCES)),
  "sep-2164-resource-not-found": at(
    ["2026-07-28"],
    excluded(`${NO_RESOURCES}; it passes, but only vacuously (an error is not "empty contents")`),
  ),
  "prompts-list": at(ALL, excluded(NO_PROMPTS)),
  "prompts-get-simple": at(ALL, excluded(NO_PROMPTS)),
  "prompts-get-with-args": at(ALL, excluded(NO_PROMPTS)),
  "prompts-get-embedded-resource": at(ALL, excluded(NO_PROMPTS)),
  "prompts-get-with-image": at(ALL, excluded(NO_PROMPTS)),

  // SEP-2322 input-required results (multi-round tool calls).
  "input-required-result-unsupported-methods": at(["2026-07-28"], applies()),
  "input-required-result-basic-elicitation": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_elicitation")),
  ),
  "input-required-result-basic-sampling": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_sampling")),
  ),
  "input-required-result-basic-list-roots": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_list_roots")),
  ),
  "input-required-result-request-state": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_request_state")),
  ),
  "input-required-result-multiple-input-requests": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_multiple_inputs")),
  ),
  "input-required-result-multi-round": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_multi_round")),
  ),
  "input-required-result-missing-input-response": at(
    ["2026-07-28"],
    excluded(`${MRTR_TOOL("test_input_required_result_elicitation")} (only a warning here, the tool being unknown)`),
  ),
  "input-required-result-non-tool-request": at(
    ["2026-07-28"],
    excluded(`SEP-2322 on prompts/get and resources/read: ${NO_PROMPTS}`),
  ),
  "input-required-result-result-type": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_elicitation")),
  ),
  "input-required-result-tampered-state": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_request_state")),
  ),
  "input-required-result-capability-check": at(
    ["2026-07-28"],
    excluded(MRTR_TOOL("test_input_required_result_capabilities")),
  ),
  "input-required-result-ignore-extra-params": at(
    ["2026-07-28"],
    excluded(`${MRTR_TOOL("test_input_required_result_elicitation")} (only a warning here, the tool being unknown)`),
  ),
  "input-required-result-validate-input": at(
    ["2026-07-28"],
    excluded(
      `${MRTR_TOOL("test_input_required_result_elicitation")} (it passes, but only vacuously: the tool is unknown)`,
    ),
  ),

  // The tasks extension (SEP-2663): pending the tasks branch. Listed: checks that need the suite's own tools.
  "tasks-capability-negotiation": at(["2026-07-28"], {
    applies: true,
    pendingTasksBranch: true,
    except: {
      "sep-2663-server-rejects-undeclared-client": `${TASK_TOOLS} (slow_compute)`,
      "tasks-per-request-meta-opt-in": `${TASK_TOOLS} (slow_compute)`,
    },
  }),
  "tasks-dispatch-and-envelope": at(["2026-07-28"], {
    applies: true,
    pendingTasksBranch: true,
    except: {
      "tasks-server-directed-creation-no-hint": `${TASK_TOOLS} (failing_job)`,
      "sep-2663-legacy-task-param-ignored": `${TASK_TOOLS} (greet)`,
      "tasks-immediate-result-shortcut": `${TASK_TOOLS} (slow_compute)`,
      "tasks-result-type-complete-on-non-task-responses": `${TASK_TOOLS} (greet)`,
      "sep-2663-durable-create-strong-consistency": `${TASK_TOOLS} (slow_compute)`,
    },
  }),
  "tasks-lifecycle": at(
    ["2026-07-28"],
    excluded(`${TASK_TOOLS} (greet, slow_compute, failing_job, protocol_error_job)`),
  ),
  "tasks-wire-fields": at(["2026-07-28"], excluded(`${TASK_TOOLS} (slow_compute)`)),
  "tasks-request-state-removal": at(["2026-07-28"], excluded(`${TASK_TOOLS} (slow_compute)`)),
  "tasks-mrtr-input": at(["2026-07-28"], excluded(`${TASK_TOOLS} (confirm_delete, multi_input)`)),
  "tasks-mrtr-composition": at(["2026-07-28"], excluded(`${TASK_TOOLS} (test_tool_with_task)`)),
  "tasks-required-task-error": at(["2026-07-28"], excluded(`${TASK_TOOLS} (failing_job)`)),
  "tasks-status-notifications": at(
    ["2026-07-28"],
    excluded("the suite skips it itself (its harness awaits a rewrite for subscriptions/listen)"),
  ),
  "tasks-request-headers": at(["2026-07-28"], {
    applies: true,
    pendingTasksBranch: true,
    except: {
      "tasks-headers-tolerate-mcp-method-on-tools-call": `${TASK_TOOLS} (greet)`,
      "sep-2663-routing-headers-accepted-on-tasks-get": `${TASK_TOOLS} (slow_compute)`,
      "sep-2663-server-rejects-mismatched-mcp-name-on-tasks-get": `${TASK_TOOLS} (a task made by slow_compute)`,
    },
  }),
};

/** Server scenarios in the suite's catalog that no run here includes, and why. */
export const NOT_RUN: Record<string, string> = {
  "sep-2640-skills-directory": "the skills extension (SEP-2640), which we do not offer (its checks all skip)",
  "sep-2640-skills-enumeration": "the skills extension (SEP-2640), which we do not offer (its checks all skip)",
  "sep-2640-skills-manifest": "the skills extension (SEP-2640), which we do not offer (its checks all skip)",
};

/** The verdict of `scenario` at `revision`, with the tasks switch applied. */
function verdictOf(scenario: string, revision: Revision): Verdict | undefined {
  const verdict = SCENARIOS[scenario]?.[revision];
  if (verdict?.applies && verdict.pendingTasksBranch && !TASKS_EXTENSION_MERGED) {
    return { applies: false, reason: "pending tasks branch: the tasks extension is being built on another branch" };
  }
  return verdict;
}

/** The scenarios the suite runs at `revision` (the table's, applicable or not). */
export function scenariosAt(revision: Revision): string[] {
  return Object.keys(SCENARIOS)
    .filter((s) => SCENARIOS[s]?.[revision] !== undefined)
    .sort();
}

/** The scenarios that must pass at `revision`. */
export function applicableAt(revision: Revision): string[] {
  return scenariosAt(revision).filter((s) => verdictOf(s, revision)?.applies === true);
}

export interface Finding {
  scenario: string;
  check: string;
  message: string;
}

export interface Judgement {
  revision: Revision;
  /** Applicable scenarios that passed, sorted. */
  passed: string[];
  /** Checks that failed where they count, and problems with the run itself (missing or unexpected scenarios). */
  failures: Finding[];
  /** Excluded scenarios, with why and how their checks came out (e.g. `SUCCESS 1, FAILURE 1`). */
  excluded: { scenario: string; reason: string; outcome: string }[];
  /** Checks of applicable scenarios not counted (`except`), and warnings. */
  notes: Finding[];
}

const outcomeOf = (checks: Check[]): string => {
  const counts = new Map<string, number>();
  for (const c of checks) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${status} ${n}`).join(", ") || "no checks";
};

/** Judges one revision's run (scenario → its checks) under the table. */
export function judge(revision: Revision, results: ReadonlyMap<string, Check[]>): Judgement {
  const judgement: Judgement = { revision, passed: [], failures: [], excluded: [], notes: [] };
  const expected = new Set(scenariosAt(revision));
  for (const scenario of expected) {
    if (!results.has(scenario)) {
      judgement.failures.push({ scenario, check: "-", message: "did not run (expected at this revision)" });
    }
  }
  for (const [scenario, checks] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    const verdict = verdictOf(scenario, revision);
    if (verdict === undefined) {
      judgement.failures.push({
        scenario,
        check: "-",
        message: `ran but is not in the table (tests/support/conformance/scenarios.ts): decide whether it applies (${outcomeOf(checks)})`,
      });
      continue;
    }
    const failed = (c: Check) => c.status === "FAILURE";
    const finding = (c: Check, message = c.errorMessage ?? "") => ({ scenario, check: c.id, message });
    if (!verdict.applies) {
      judgement.excluded.push({ scenario, reason: verdict.reason, outcome: outcomeOf(checks) });
      for (const c of checks) {
        if (c.id === "wire-schema-valid" && failed(c)) judgement.failures.push(finding(c));
      }
      continue;
    }
    const except = verdict.except ?? {};
    let failing = false;
    for (const c of checks) {
      const why = except[c.id];
      if (why !== undefined) {
        if (c.status !== "SUCCESS") judgement.notes.push(finding(c, `${c.status}, not counted: ${why}`));
      } else if (failed(c)) {
        failing = true;
        judgement.failures.push(finding(c));
      } else if (c.status === "WARNING") {
        judgement.notes.push(finding(c, `WARNING: ${c.errorMessage ?? JSON.stringify(c.details ?? "")}`));
      }
    }
    const succeeded = checks.some((c) => c.status === "SUCCESS" && c.id !== "wire-schema-valid" && !(c.id in except));
    if (!succeeded && !failing) {
      failing = true;
      judgement.failures.push({ scenario, check: "-", message: `no check succeeded (${outcomeOf(checks)})` });
    }
    if (!failing) judgement.passed.push(scenario);
  }
  judgement.passed.sort();
  return judgement;
}

/** A readable report of one judgement (what passed, what failed and why, what was excluded and why). */
export function formatJudgement(j: Judgement): string {
  const lines = [`MCP conformance ${SUITE_VERSION} at ${j.revision}:`];
  lines.push(`  passed (${j.passed.length}): ${j.passed.join(", ") || "none"}`);
  if (j.failures.length > 0) {
    lines.push(`  FAILED (${j.failures.length}):`);
    for (const f of j.failures) lines.push(`    ✗ ${f.scenario} / ${f.check}: ${f.message}`);
  }
  if (j.notes.length > 0) {
    lines.push(`  notes:`);
    for (const n of j.notes) lines.push(`    · ${n.scenario} / ${n.check}: ${n.message}`);
  }
  lines.push(`  excluded (${j.excluded.length}):`);
  for (const e of j.excluded) lines.push(`    - ${e.scenario} [${e.outcome}]: ${e.reason}`);
  return lines.join("\n");
}

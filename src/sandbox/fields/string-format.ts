/**
 * cellFormat=string: "cells will be formatted as user-facing strings, regardless of the field type. The timeZone
 * and userLocale parameters are required… Note: You should not rely on the format of these strings, as it is
 * subject to change" (https://airtable.com/developers/web/api/list-records). The sandbox renders what the Airtable
 * UI shows: numbers with the field's precision (currency with its symbol, percent ×100 with "%", durations as
 * h:mm[:ss]), dates in the field's date format and, for date-times, in the request's time zone and the field's
 * time format, links and lookups as their primary values joined with ", ", attachments as "filename (url)",
 * collaborators (createdBy and lastModifiedBy too) by name, AI text as its generated text, checkboxes as "checked".
 */
import type { Field, StoredRecord, Table } from "../store.ts";
import type { CellSource } from "./cell-source.ts";
import { resultOfField, type ResultConfig } from "./formula-result.ts";

export interface StringFormat {
  timeZone: string;
  userLocale: string;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function formatNumber(value: number, config: ResultConfig, fmt: StringFormat): string {
  const precision = typeof config.options?.precision === "number" ? config.options.precision : 0;
  const fixed = (n: number, grouping: boolean): string =>
    new Intl.NumberFormat(fmt.userLocale, {
      minimumFractionDigits: precision,
      maximumFractionDigits: precision,
      useGrouping: grouping,
    }).format(n);
  switch (config.type) {
    case "currency": {
      // The sign before the symbol ("-$5.00", as Intl's own currency style writes it and as spreadsheets do), not
      // between symbol and digits ("$-5.00"): Airtable documents no format for a negative currency (a guess). The
      // sign is the locale's, as Intl writes it before the digits ("-" in en and de, "−" in sv).
      const symbol = typeof config.options?.symbol === "string" ? config.options.symbol : "";
      const text = fixed(value, true);
      const digits = fixed(Math.abs(value), true);
      const sign = text.endsWith(digits) ? text.slice(0, text.length - digits.length) : "";
      return `${sign}${symbol}${digits}`;
    }
    case "percent":
      return `${fixed(value * 100, false)}%`;
    case "duration": {
      const format = typeof config.options?.durationFormat === "string" ? config.options.durationFormat : "h:mm";
      const sign = value < 0 ? "-" : "";
      const total = Math.abs(value);
      const h = Math.floor(total / 3600);
      const m = Math.floor((total % 3600) / 60);
      if (format === "h:mm") return `${sign}${h}:${pad(m)}`;
      const decimals = format.length - "h:mm:ss".length - 1;
      const s = total % 60;
      const secs = decimals > 0 ? s.toFixed(decimals).padStart(3 + decimals, "0") : pad(Math.floor(s));
      return `${sign}${h}:${pad(m)}:${secs}`;
    }
    case "rating":
    case "autoNumber":
      return String(value);
    default:
      return fixed(value, false);
  }
}

function datePart(d: Date, name: string, fmt: StringFormat, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(d);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const y = get("year");
  const m = get("month");
  const day = get("day");
  switch (name) {
    case "us":
      return `${m}/${day}/${y}`;
    case "european":
      return `${day}/${m}/${y}`;
    case "friendly":
      return new Intl.DateTimeFormat(fmt.userLocale, { timeZone, dateStyle: "long" }).format(d);
    case "local":
      // The field model documents "local" as the format "l" (moment.js's short numeric date of the locale: "M/D/YYYY"
      // in en, "D.M.YYYY" in de, "D/M/YYYY" in en-gb): a four-digit year, day and month unpadded. Intl's
      // dateStyle "short" (what this was) gives a two-digit year ("3/4/26"). The locale's order and separator
      // come from Intl here, a guess as close to moment's as Intl allows.
      return new Intl.DateTimeFormat(fmt.userLocale, { timeZone, year: "numeric", month: "numeric", day: "numeric" })
        .formatToParts(d)
        .map((p) => (p.type === "day" || p.type === "month" ? String(Number(p.value)) : p.value))
        .join("");
    default:
      return `${y}-${pad(m)}-${pad(day)}`;
  }
}

function formatDate(value: string, config: ResultConfig, fmt: StringFormat): string {
  const dateOnly = config.type === "date";
  const t = Date.parse(dateOnly && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(t)) return value;
  const d = new Date(t);
  const dateFormat = config.options?.dateFormat as { name?: string } | undefined;
  const name = dateFormat?.name ?? "iso";
  if (dateOnly) return datePart(d, name, fmt, "UTC");
  const fieldZone = config.options?.timeZone;
  // "client" (and no zone) means the reader's zone: the request's timeZone.
  const timeZone =
    typeof fieldZone === "string" && fieldZone !== "client" ? (fieldZone === "utc" ? "UTC" : fieldZone) : fmt.timeZone;
  const timeFormat = config.options?.timeFormat as { name?: string } | undefined;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hour: "numeric",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  const hour = Number(parts.find((p) => p.type === "hour")?.value ?? 0);
  const minute = parts.find((p) => p.type === "minute")?.value ?? "00";
  const time =
    timeFormat?.name === "12hour"
      ? `${hour % 12 === 0 ? 12 : hour % 12}:${minute}${hour < 12 ? "am" : "pm"}`
      : `${pad(hour)}:${minute}`;
  return `${datePart(d, name, fmt, timeZone)} ${time}`;
}

function formatValue(value: unknown, config: ResultConfig, fmt: StringFormat): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) {
    return value
      .map((item) => formatValue(item, config, fmt))
      .filter((s) => s !== "")
      .join(", ");
  }
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.filename === "string") return typeof o.url === "string" ? `${o.filename} (${o.url})` : o.filename;
    if (typeof o.error === "string") return o.error;
    if (typeof o.specialValue === "string") return o.specialValue;
    if (typeof o.state === "string" && "isStale" in o) return typeof o.value === "string" ? o.value : ""; // AI text
    for (const key of ["name", "text", "label", "email", "id"]) if (typeof o[key] === "string") return o[key] as string;
    return "";
  }
  if (typeof value === "boolean") return value ? "checked" : "";
  if (typeof value === "number") return formatNumber(value, config, fmt);
  if (config.type === "date" || config.type === "dateTime") return formatDate(value as string, config, fmt);
  return String(value);
}

/** The cell as a user-facing string ("" for an empty cell, which the answer then omits). */
export function formatCell(
  source: CellSource,
  table: Table,
  field: Field,
  record: StoredRecord,
  value: unknown,
  fmt: StringFormat,
): string {
  if (field.type === "multipleRecordLinks" || field.type === "multipleLookupValues") {
    // Links show their records' primary values; lookups their values as formulas see them (links by name too).
    const shown = source.formulaValue(table, field, record);
    return formatValue(
      shown,
      field.type === "multipleLookupValues" ? resultOfField(field) : { type: "singleLineText" },
      fmt,
    );
  }
  return formatValue(value, resultOfField(field), fmt);
}

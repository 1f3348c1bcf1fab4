import type { Schema } from "./config-schema.ts";

export const HYDROVU_DEFAULT_BASE = "https://www.hydrovu.com/public-api/";

/** `kind: hydrovu`, as checked by HYDROVU_SCHEMA. */
export interface HydroVuConfig {
  kind: "hydrovu";
  file: string;
  client_id: string;
  client_secret: string;
  destination: string;
  devices: { id: number | string; name: string; active?: boolean }[];
  start?: string;
  base_url?: string;
  max_points_per_run?: number;
  /** Seconds per request. */
  request_timeout?: number;
  max_retries?: number;
  /** The account's rate limit (HydroVu documents about 1,000 calls a minute). */
  requests_per_minute?: number;
}

export const HYDROVU_SCHEMA: Schema = {
  kind: { type: "enum", values: ["hydrovu"], required: true },
  client_id: { type: "secret", required: true },
  client_secret: { type: "secret", required: true },
  destination: { type: "pond-path", required: true },
  devices: {
    type: "list",
    required: true,
    of: {
      id: { type: "number", integer: true, min: 0, required: true },
      name: { type: "string", required: true },
      active: { type: "boolean" },
    },
  },
  start: { type: "time" },
  base_url: { type: "string" },
  max_points_per_run: { type: "number", integer: true, min: 1 },
  request_timeout: { type: "number", min: 0.001 },
  max_retries: { type: "number", integer: true, min: 0 },
  requests_per_minute: { type: "number", integer: true, min: 1 },
};

export * from "./errors.ts";
export * from "./body.ts";
export { CsvRecordSplitter, firstCsvRecordEnd } from "./csv-records.ts";
export * from "./options.ts";
export { Ingester, type IngestRequest, type IngestResult, type FlushResult, type FlushReason } from "./ingester.ts";
export { createIngestPart, MAX_BODY_BYTES } from "./http-part.ts";

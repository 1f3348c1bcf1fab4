import { writeFileSync } from "node:fs";
import { writeRowsParquet } from "@pond/tlogfs";
const lines: string[] = [];
for (let i = 0; i < 40000; i++) lines.push(`{"timestamp":${1600000000 + i * 60},"a":${Math.sin(i) * 10},"b":${(i % 97) / 10}${i > 20000 ? `,"c":${i / 7}` : ""}}`);
writeFileSync("/tmp/m.jsonl", lines.join("\n") + "\n");
const cols = [{ name: "timestamp", type: "epoch_s" as const }, { name: "a", type: "DOUBLE" as const }, { name: "b", type: "DOUBLE" as const }, { name: "c", type: "DOUBLE" as const }];
await writeRowsParquet("/tmp/m.jsonl", "/tmp/m0.parquet", cols, "timestamp");
for (let k = 0; k < 3; k++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < 10; i++) await writeRowsParquet("/tmp/m.jsonl", `/tmp/m${i}.parquet`, cols, "timestamp");
  const c = process.cpuUsage(c0);
  console.log("convert", ((c.user + c.system) / 1000 / 10).toFixed(1), "ms cpu/device", ((performance.now() - t0) / 10).toFixed(1), "ms wall");
}
process.exit(0);

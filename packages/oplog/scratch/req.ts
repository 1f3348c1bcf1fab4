const m = process.argv[2];
await import("./triv.ts");
const t0 = performance.now();
const mod = require(m); const t1 = performance.now();
console.log(m, (t1-t0).toFixed(1), Object.keys(mod).length);

const m = process.argv[2];
await import("./triv.ts");
const t0 = performance.now();
await import(m); const t1 = performance.now();
console.log(m, (t1-t0).toFixed(1));

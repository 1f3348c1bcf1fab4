const A = require("apache-arrow") as typeof import("apache-arrow");
const names = ["a", "é—ü", "c"];
const t = new A.Table({
  name: A.vectorFromArray(names, new A.Utf8()),
  v: A.vectorFromArray([1n, 2n, 3n], new A.Int64()),
});
const bytes = A.tableToIPC(t, "stream");
console.log(bytes.constructor.name, bytes.length);
const back = A.tableFromIPC(bytes);
console.log(back.schema.fields.map(f => `${f.name}:${f.type}`), back.numRows, back.getChild("name")?.toArray(), back.getChild("v")?.toArray());
const empty = new A.Table({ name: A.vectorFromArray([], new A.Utf8()), v: A.vectorFromArray([], new A.Int64()) });
const eb = A.tableToIPC(empty, "stream"); console.log("empty", eb.length);
const eback = A.tableFromIPC(eb); console.log(eback.schema.fields.map(f => `${f.name}:${f.type}`), eback.numRows);
for (const g of [new Uint8Array(0), new TextEncoder().encode("hello world, garbage here"), new Uint8Array(100).fill(255), bytes.slice(0, 50), bytes.slice(0, bytes.length - 20)]) {
  try { const x = A.tableFromIPC(g); console.log("no throw", x.numRows, x.schema.fields.length); } catch (e) { console.log("threw", (e as Error).message.slice(0, 100)); }
}

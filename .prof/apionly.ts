import { HttpClient, HydroVuApi } from "@pond/collect";
const base = process.argv[2]!;
const api = new HydroVuApi(base, { clientId: "fake-id", clientSecret: "fake-secret" }, new HttpClient({ requestsPerMinute: 1e6 }));
let n = 0;
const t0 = performance.now();
for (let id = 1000; id < 1010; id++) for await (const p of api.data(id, 0)) n += p.parameters.length;
console.log("api", (performance.now() - t0).toFixed(0), "ms", n);

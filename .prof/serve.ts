import { FakeHydroVu, generateLocation } from "../test/support/fake-hydrovu.ts";
const ids = Array.from({ length: 10 }, (_, i) => 1000 + i);
const fake = new FakeHydroVu(ids.map((id) => generateLocation(id, `d${id}`, { start: 1_600_000_000, count: 40000, step: 60 })), { pageSize: 400 });
await Bun.write("/tmp/fake-url", fake.url);
await Bun.sleep(1e9);

const base = process.argv[2]!;
const form = new URLSearchParams({ grant_type: "client_credentials", client_id: "fake-id", client_secret: "fake-secret" });
const tok = (await (await fetch(`${base}oauth/token`, { method: "POST", body: form })).json()) as { access_token: string };
const auth = { authorization: `Bearer ${tok.access_token}` };
let readings = 0;
for (let id = 1000; id < 1010; id++) {
  let cursor = "";
  for (;;) {
    const r = await fetch(`${base}v1/locations/${id}/data?startTime=0`, { headers: { ...auth, "X-ISI-Start-Page": cursor } });
    const j = (await r.json()) as { parameters: { readings: unknown[] }[] };
    for (const p of j.parameters) readings += p.readings.length;
    cursor = r.headers.get("x-isi-next-page") ?? "";
    if (!cursor) break;
  }
}
console.log(readings);

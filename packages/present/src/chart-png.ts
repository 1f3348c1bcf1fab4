/**
 * SVG to PNG with resvg (Rust, compiled to WebAssembly; @resvg/resvg-wasm from npm, 2.4 MB,
 * no native addon to extract, renders our SVG exactly). The WebAssembly module and one
 * font (Inter Regular, OFL, 340 KB; WebAssembly has no system fonts) are embedded in the
 * binary as file assets, so PNG works on a machine with no fonts installed.
 */
import { readFileSync } from "node:fs";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import fontPath from "@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf" with { type: "file" };
import wasmPath from "@resvg/resvg-wasm/index_bg.wasm" with { type: "file" };

let ready: Promise<void> | undefined;
let font: Uint8Array | undefined;

/** Rasterizes `svg` (as renderSvg writes it) to PNG bytes. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  ready ??= initWasm(readFileSync(wasmPath));
  await ready;
  font ??= new Uint8Array(readFileSync(fontPath));
  const r = new Resvg(svg, { font: { fontBuffers: [font], defaultFontFamily: "Inter", sansSerifFamily: "Inter" }, background: "#ffffff" });
  try {
    const img = r.render();
    try {
      return img.asPng();
    } finally {
      img.free();
    }
  } finally {
    r.free();
  }
}

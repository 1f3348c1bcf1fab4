// Text assets embedded in the binary (Bun's `with { type: "text" }` imports).
declare module "*.browser.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
declare module "@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf" {
  const path: string;
  export default path;
}
declare module "@resvg/resvg-wasm/index_bg.wasm" {
  const path: string;
  export default path;
}

/**
 * Files every site carries in assets/: uPlot (from npm, MIT; 51 KB minified, no
 * dependencies, draws 100,000s of points on a canvas) and the page script. Imported as
 * text so the compiled binary embeds them: a site is built with no node_modules around.
 */
import pageScript from "./site-page.browser.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };

export const SITE_ASSETS: Readonly<Record<string, string>> = {
  "assets/uPlot.iife.min.js": uplotJs,
  "assets/uPlot.min.css": uplotCss,
  "assets/pond-site.js": pageScript,
};

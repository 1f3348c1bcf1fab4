let arrow: typeof import("apache-arrow") | undefined;
function A() { return (arrow ??= require("apache-arrow") as typeof import("apache-arrow")); }
async function H() { return await import("hyparquet"); }
async function main() { if (process.argv[2] === "use") { console.log(Object.keys(A()).length, Object.keys(await H()).length); } else console.log(0); }
main();

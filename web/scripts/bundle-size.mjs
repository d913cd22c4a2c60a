// The JavaScript a first visit downloads before the app can render: the entry script and
// the chunks index.html preloads, gzipped. Fails above the budget (150 kB, issue #14).
// Run after `npm run build`: `npm run size`. (Each page's own chunk comes on top, lazily.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_kB = 150;
const outDir = new URL("../../studypath/static/", import.meta.url).pathname;
const html = readFileSync(join(outDir, "index.html"), "utf8");
const initial = [
  ...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g),
].map((match) => match[1]);
let total = 0;
for (const file of initial) {
  const kb = gzipSync(readFileSync(join(outDir, file))).length / 1000;
  total += kb;
  console.log(`${kb.toFixed(1).padStart(7)} kB gz  ${file}`);
}
console.log(`${total.toFixed(1).padStart(7)} kB gz  initial JavaScript (budget ${BUDGET_kB} kB)`);
if (initial.length === 0 || total > BUDGET_kB) {
  console.error(initial.length === 0 ? "no entry script found in index.html" : "over budget");
  process.exit(1);
}

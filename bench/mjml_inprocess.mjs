// The official MJML's in-process API, timed call by call on one MJML file, for bench/run.py.
//   node bench/mjml_inprocess.mjs FILE.mjml COUNT  ->  {"ms": [...], "html_bytes": N, "errors": N}
import { readFileSync } from "node:fs";
import mjml2html from "mjml";

const [file, count] = process.argv.slice(2);
const source = readFileSync(file, "utf8");
const ms = [];
let result;
for (let n = 0; n < Number(count); n += 1) {
  const start = process.hrtime.bigint();
  result = await mjml2html(source);  // MJML 5's mjml2html is async
  ms.push(Number(process.hrtime.bigint() - start) / 1e6);
}
console.log(JSON.stringify({ ms, html_bytes: Buffer.byteLength(result.html),
                             errors: result.errors.length }));

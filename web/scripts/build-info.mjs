// Writes studypath/static/build-info.json: the digest of the web app's sources this build
// was made from. `npm run build` runs it after `vite build`; tests/test_web_build.py
// recomputes the digest in Python (studypath/web_build.py, whose docstring states the
// algorithm) and fails when the committed build is stale. No dependencies: node:crypto, node:fs.
//
//   node scripts/build-info.mjs                  write ../studypath/static/build-info.json
//   node scripts/build-info.mjs --print          print the digest only
//   node scripts/build-info.mjs --web-dir DIR --output FILE
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SOURCE_TREES = ["src"];
const SOURCE_FILES = ["index.html", "package.json", "package-lock.json", "vite.config.ts", "openapi.json"];
// Generated from openapi.json (a source) by `npm run generate-types`, and not committed.
const GENERATED_FILES = ["src/api/schema.d.ts"];
const isSourcePattern = (name) => name.startsWith("tsconfig") && name.endsWith(".json"); // tsconfig*.json

function isRegularFile(path) {
  try {
    return lstatSync(path).isFile(); // a symlink is not a regular file
  } catch {
    return false;
  }
}

// Every regular file under `relative`, recursively; symlinks are not followed.
function walk(webDir, relative, found) {
  let entries;
  try {
    entries = readdirSync(join(webDir, relative), { withFileTypes: true });
  } catch {
    return; // no such folder
  }
  for (const entry of entries) {
    const child = `${relative}/${entry.name}`;
    if (entry.isDirectory()) walk(webDir, child, found);
    else if (entry.isFile()) found.add(child);
  }
}

export function sourceFiles(webDir) {
  const found = new Set();
  for (const tree of SOURCE_TREES) walk(webDir, tree, found);
  const named = [...SOURCE_FILES, ...readdirSync(webDir).filter(isSourcePattern)];
  for (const name of named) if (isRegularFile(join(webDir, name))) found.add(name);
  for (const generated of GENERATED_FILES) found.delete(generated);
  // Sorted by UTF-8 bytes, as Python sorts `path.encode()` (not by UTF-16 code units).
  return [...found].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function sourcesDigest(webDir) {
  const files = sourceFiles(webDir);
  const digest = createHash("sha256");
  for (const relative of files) {
    const fileHash = createHash("sha256").update(readFileSync(join(webDir, relative))).digest("hex");
    digest.update(Buffer.concat([Buffer.from(relative), Buffer.from([0])]));
    digest.update(`${fileHash}\n`, "ascii");
  }
  return { digest: digest.digest("hex"), count: files.length };
}

function main(args) {
  const { values } = parseArgs({
    args,
    options: { print: { type: "boolean" }, "web-dir": { type: "string" }, output: { type: "string" } },
  }); // strict: an unknown option or a missing value throws, naming it
  const webDir = resolve(values["web-dir"] ?? dirname(dirname(fileURLToPath(import.meta.url))));
  const { digest, count } = sourcesDigest(webDir);
  if (values.print) {
    process.stdout.write(`${digest}\n`);
    return;
  }
  const output = resolve(values.output ?? join(webDir, "..", "studypath", "static", "build-info.json"));
  mkdirSync(dirname(output), { recursive: true });
  const info = { source_files: count, sources_sha256: digest };
  writeFileSync(output, `${JSON.stringify(info, null, 2)}\n`);
  console.log(`wrote ${output} (${count} source files, sha256 ${digest.slice(0, 12)}…)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`build-info: ${error.message}`);
    process.exit(2);
  }
}

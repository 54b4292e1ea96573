// Copy the front-end libraries pinned in package.json from node_modules into static/vendor/.
// The copies are committed, so the application needs no Node at run time. Run: npm ci && npm run vendor
import { copyFileSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

const files = {
  bootstrap: [
    ["dist/css/bootstrap.min.css", "bootstrap.min.css"],
    ["dist/css/bootstrap.min.css.map", "bootstrap.min.css.map"],
    ["dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"],
    ["dist/js/bootstrap.bundle.min.js.map", "bootstrap.bundle.min.js.map"],
    ["LICENSE", "LICENSE"],
  ],
  "bootstrap-icons": [
    ["font/bootstrap-icons.min.css", "bootstrap-icons.min.css"],
    ["font/fonts/bootstrap-icons.woff2", "fonts/bootstrap-icons.woff2"],
    ["font/fonts/bootstrap-icons.woff", "fonts/bootstrap-icons.woff"],
    ["LICENSE", "LICENSE"],
  ],
  "htmx.org": [
    ["dist/htmx.min.js", "htmx.min.js"],
    ["LICENSE", "LICENSE"],
  ],
  "chart.js": [
    ["dist/chart.umd.min.js", "chart.umd.min.js"],
    ["dist/chart.umd.min.js.map", "chart.umd.min.js.map"],
    ["LICENSE.md", "LICENSE.md"],
  ],
  fullcalendar: [
    ["index.global.min.js", "index.global.min.js"],
    ["LICENSE.md", "LICENSE.md"],
  ],
  "@fullcalendar/core": [["locales/fr.global.min.js", "locales/fr.global.min.js"]],
  signature_pad: [
    ["dist/signature_pad.umd.min.js", "signature_pad.umd.min.js"],
    ["dist/signature_pad.umd.min.js.map", "signature_pad.umd.min.js.map"],
    ["LICENSE", "LICENSE"],
  ],
  dexie: [
    ["dist/dexie.min.js", "dexie.min.js"],
    ["dist/dexie.min.js.map", "dexie.min.js.map"],
    ["LICENSE", "LICENSE"],
    ["NOTICE", "NOTICE"],
  ],
};
const folders = {
  bootstrap: "bootstrap",
  "bootstrap-icons": "bootstrap-icons",
  "htmx.org": "htmx",
  signature_pad: "signature_pad",
  fullcalendar: "fullcalendar",
  "chart.js": "chartjs",
  "@fullcalendar/core": "fullcalendar",
  dexie: "dexie",
};

// Each target folder is emptied once, before any package writes into it.
for (const folder of new Set(Object.values(folders))) {
  rmSync(join(vendor, folder), { recursive: true, force: true });
}
for (const [pkg, entries] of Object.entries(files)) {
  const target = join(vendor, folders[pkg]);
  for (const [source, destination] of entries) {
    const from = join(modules, pkg, source);
    if (!existsSync(from)) throw new Error(`missing ${from}: run npm ci first`);
    const to = join(target, destination);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    console.log(`${pkg}/${source} -> static/vendor/${folders[pkg]}/${destination}`);
  }
}

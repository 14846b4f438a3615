// Copies the pinned nhsuk-frontend build into tracker/static/vendor/nhsuk (git-ignored).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "nhsuk-frontend", "dist", "nhsuk");
const target = join(root, "tracker", "static", "vendor", "nhsuk");

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
// The stylesheet loads the Frutiger web font from assets.nhs.uk, which only services hosted
// on nhs.uk may use; our Content-Security-Policy blocks it anyway. Drop those @font-face rules
// so pages ask no other site for anything and fall back to Arial, as the NHS font stack does.
const css = readFileSync(join(source, "nhsuk-frontend.min.css"), "utf8");
const withoutRemoteFonts = css.replace(/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}/g, "");
if (withoutRemoteFonts.includes("assets.nhs.uk/fonts")) {
  throw new Error("nhsuk-frontend still refers to remote fonts: update scripts/build-assets.mjs");
}
writeFileSync(join(target, "nhsuk-frontend.min.css"), withoutRemoteFonts);
cpSync(join(source, "nhsuk-frontend.min.js"), join(target, "nhsuk-frontend.min.js"));
cpSync(join(source, "assets"), join(target, "assets"), { recursive: true });
console.log(`nhsuk-frontend assets copied to ${target}`);

// Copies the pinned nhsuk-frontend build into tracker/static/vendor/nhsuk (git-ignored).
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "nhsuk-frontend", "dist", "nhsuk");
const target = join(root, "tracker", "static", "vendor", "nhsuk");

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
cpSync(join(source, "nhsuk-frontend.min.css"), join(target, "nhsuk-frontend.min.css"));
cpSync(join(source, "nhsuk-frontend.min.js"), join(target, "nhsuk-frontend.min.js"));
cpSync(join(source, "assets"), join(target, "assets"), { recursive: true });
console.log(`nhsuk-frontend assets copied to ${target}`);

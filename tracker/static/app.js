// Outage Claims: start the NHS.UK frontend components (header menu, error summary, buttons).
import { initAll } from "./vendor/nhsuk/nhsuk-frontend.min.js";

initAll();

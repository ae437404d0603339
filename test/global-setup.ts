// Before any test file: build dist/ once if the sources are newer, so test files that run the
// built package never build it themselves at the same time as each other.
import { ensureDist } from '../scripts/ensure-dist.mjs';

export default function setup(): void {
  ensureDist();
}

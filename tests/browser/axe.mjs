// axe-core over a page, shared by the browser walks: evaluated through the DevTools
// protocol, so the page's CSP does not apply to it. Every violation is printed.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The violations axe-core finds on `page` (labelled `name` in the output).
export async function axeViolations(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
    for (const n of v.nodes.slice(0, 4)) {
      console.log(`    ${n.target.join(' ')}: ${(n.any[0] && n.any[0].message) || n.failureSummary}`);
    }
  }
  return result.violations;
}

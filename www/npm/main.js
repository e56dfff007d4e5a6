// A site's own entry module, bundled with esbuild. `import { init } from 'consentry'` is all a site needs;
// importing touches nothing until init() runs.
import { init } from 'consentry';
import config from '../consent.json';

const out = document.getElementById('state');
const show = (consent) => { out.textContent = JSON.stringify(consent); };

init(config)
  .then((consentry) => {
    show(consentry.getConsent());
    consentry.on('change', ({ consent }) => show(consent));
  })
  .catch((e) => { out.textContent = 'failed: ' + e.message; });

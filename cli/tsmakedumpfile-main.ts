/** bin/tsmakedumpfile's entry when no start-up snapshot is used (dist/bundle/tsmakedumpfile.js). */
import { startMakedumpfile } from './tsmakedumpfile.js';

startMakedumpfile(process.argv.slice(2));

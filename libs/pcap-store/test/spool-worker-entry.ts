import { runSpoolWorker } from '../src/index.js';

runSpoolWorker();

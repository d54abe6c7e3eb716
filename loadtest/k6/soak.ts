// k6 run -e BASE_URL=https://artwork.example.com [-e BASE_RATE=20 -e TIME_SCALE=1 -e MAX_VUS=2000 -e ZIPF_S=0.9 -e SLO="p99Ms=2000 spike.maxShedRate=0.05"] loadtest/k6/soak.ts
// Scenario: hours at a moderate rate (defined in loadtest/scenarios/definitions.ts, shared with the Node runner).
import { SCENARIOS } from '../scenarios/definitions.ts';
import { makeIteration, makeOptions, scenarioFromEnv } from './lib/common.ts';

const scenario = scenarioFromEnv(SCENARIOS.soak);

export const options = makeOptions(scenario);

export default makeIteration(scenario);

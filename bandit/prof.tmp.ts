import { readFileSync } from "node:fs";
import { parseScenario } from "./scenario";
import { simulate } from "./simulate";
const sc = parseScenario(JSON.parse(readFileSync(`../shared/bench/scenarios/apohf_larger_animal.json`,"utf8")));
const s = simulate(sc, { policy: "duet", trials: 1, votes: 150, scale: 10, seed: 1 });
console.log(s.secondsPerVote);

import { readFileSync } from "node:fs";
import { parseScenario } from "./scenario";
import { simulateTrial } from "./simulate";
const sc = parseScenario(JSON.parse(readFileSync("../shared/bench/scenarios/linear.json","utf8")));
const res = simulateTrial(sc, { policy: "apohf", trials: 1, votes: 40, scale: 10, seed: 1, policyOptions: { apohf: { trainSteps: +(process.argv[2] ?? 1000) } } }, 0);
const order = Array.from(sc.utility).map((u,i)=>[u,i]).sort((a,b)=>b[0]-a[0]); const rank = new Map(order.map(([u,i],r)=>[i,r]));
console.log(res.pairs.map(([a,b])=>`${rank.get(a)}v${rank.get(b)}`).join(" "));
console.log(Array.from(res.regret).map(r=>r.toFixed(2)).join(" "));

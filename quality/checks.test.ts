import { describe, expect, it } from "vitest";
import { mulberry32 } from "../bandit/random";
import { auditAllowed, chooseCheck, pickUniform } from "./checks";

describe("quality checks (audits and gold)", () => {
  it("allows an audit only after a non-audit and within the share, counting the new one", () => {
    // (audits + 1) <= 0.1 * (answered + 1): the first audit once 9 pairs are answered.
    expect(auditAllowed({ answered: 8, audits: 0, lastWasAudit: false }, 0.1)).toBe(false);
    expect(auditAllowed({ answered: 9, audits: 0, lastWasAudit: false }, 0.1)).toBe(true);
    expect(auditAllowed({ answered: 9, audits: 0, lastWasAudit: true }, 0.1)).toBe(false);
    // The second once 19 are answered (one of them the first audit).
    expect(auditAllowed({ answered: 18, audits: 1, lastWasAudit: false }, 0.1)).toBe(false);
    expect(auditAllowed({ answered: 19, audits: 1, lastWasAudit: false }, 0.1)).toBe(true);
    expect(auditAllowed({ answered: 100, audits: 0, lastWasAudit: false }, 0)).toBe(false);
  });

  it("serves audits at the audit rate while allowed and gold at the gold rate (seeded, 20,000 draws)", () => {
    const random = mulberry32(18);
    const draws = 20_000;
    const open = { answered: 1_000, audits: 0, lastWasAudit: false };
    const counts = { audit: 0, gold: 0, overlap: 0, none: 0 };
    for (let k = 0; k < draws; k++)
      counts[chooseCheck({ auditRate: 0.05, auditMaxShare: 0.5, goldRate: 0.1, overlapRate: 0 }, open, random) ?? "none"]++;
    // Binomial standard errors: sqrt(0.05 * 0.95 / 20000) = 0.0015, sqrt(0.1 * 0.9 / 20000) = 0.0021; 4 of them either side.
    expect(counts.audit / draws).toBeGreaterThan(0.05 - 0.006);
    expect(counts.audit / draws).toBeLessThan(0.05 + 0.006);
    expect(counts.gold / draws).toBeGreaterThan(0.1 - 0.0085);
    expect(counts.gold / draws).toBeLessThan(0.1 + 0.0085);
    // When no audit is allowed, gold keeps its rate and no audit comes.
    const closed = { answered: 1_000, audits: 0, lastWasAudit: true };
    let gold = 0;
    for (let k = 0; k < draws; k++) {
      const check = chooseCheck({ auditRate: 0.05, auditMaxShare: 0.5, goldRate: 0.1, overlapRate: 0 }, closed, random);
      expect(check).not.toBe("audit");
      if (check === "gold") gold++;
    }
    expect(gold / draws).toBeGreaterThan(0.1 - 0.0085);
    expect(gold / draws).toBeLessThan(0.1 + 0.0085);
  });

  it("serves overlaps at the overlap rate beside audits and gold (seeded, 20,000 draws)", () => {
    const random = mulberry32(42);
    const draws = 20_000;
    const rates = { auditRate: 0.05, auditMaxShare: 0.5, goldRate: 0.1, overlapRate: 0.2 };
    const counts = { audit: 0, gold: 0, overlap: 0, none: 0 };
    for (let k = 0; k < draws; k++) counts[chooseCheck(rates, { answered: 1_000, audits: 0, lastWasAudit: false }, random) ?? "none"]++;
    // Binomial standard error sqrt(0.2 * 0.8 / 20000) = 0.0028; 4 of them either side.
    expect(Math.abs(counts.overlap / draws - 0.2)).toBeLessThan(0.0113);
    expect(Math.abs(counts.gold / draws - 0.1)).toBeLessThan(0.0085);
    // An audit not allowed leaves the overlap rate as it is.
    let overlap = 0;
    for (let k = 0; k < draws; k++) if (chooseCheck(rates, { answered: 1_000, audits: 0, lastWasAudit: true }, random) === "overlap") overlap++;
    expect(Math.abs(overlap / draws - 0.2)).toBeLessThan(0.0113);
  });

  it("takes no random draw when every rate is 0, and picks uniformly", () => {
    const never = () => {
      throw new Error("no draw expected");
    };
    expect(
      chooseCheck({ auditRate: 0, auditMaxShare: 0.1, goldRate: 0, overlapRate: 0 }, { answered: 50, audits: 0, lastWasAudit: false }, never),
    ).toBeNull();
    expect(pickUniform([], never)).toBeNull();
    expect(pickUniform(["a", "b", "c"], () => 0.99)).toBe("c");
    expect(pickUniform(["a", "b", "c"], () => 0)).toBe("a");
  });
});

import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { studyMembers } from "../../db/schema";
import { cookieOf, TEST_PASSWORD } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { actorFromCredentials } from "~/auth/actor.server";
import { createSession, findSession } from "~/auth/session.server";
import { db } from "~/db.server";
import {
  changePassword,
  createFirstOwner,
  createOwnerFromCli,
  firstOwnerSetupIsOpen,
  prepareFirstOwnerSetup,
  revokeOwnSessions,
  signIn,
  signOut,
} from "./accounts.server";

const account = (email: string) => ({ email, displayName: email.split("@")[0]!, password: TEST_PASSWORD });

describe("owner accounts and sessions", () => {
  useTempAppDatabase();

  it("creates the first owner only through the latest setup link, once, and gives them the ownerless demo study", async () => {
    const stale = prepareFirstOwnerSetup()!;
    const token = prepareFirstOwnerSetup()!;
    expect(firstOwnerSetupIsOpen(stale)).toBe(false);
    expect(firstOwnerSetupIsOpen(token)).toBe(true);
    expect(await createFirstOwner(stale, account("early@example.com"))).toMatchObject({ ok: false, field: "token" });
    const created = await createFirstOwner(token, account("first@example.com"));
    if (!created.ok) throw new Error(created.message);
    expect(db().select().from(studyMembers).all()).toEqual([expect.objectContaining({ userId: created.user.id, role: "owner" })]);
    expect(firstOwnerSetupIsOpen(token)).toBe(false);
    expect(await createFirstOwner(token, account("second@example.com"))).toMatchObject({ ok: false });
    expect(prepareFirstOwnerSetup()).toBeNull();
  });

  it("signs in with the right password only, case-insensitively by email through the form schema, and signs out at once", async () => {
    expect(await signIn("first@example.com", "wrong password")).toBeNull();
    expect(await signIn("nobody@example.com", TEST_PASSWORD)).toBeNull();
    const signedIn = (await signIn("first@example.com", TEST_PASSWORD))!;
    const cookie = await cookieOf(signedIn.session);
    expect((await actorFromCredentials({ cookie, authorization: null })).kind).toBe("user");
    signOut(signedIn.session.id);
    expect((await actorFromCredentials({ cookie, authorization: null })).kind).toBe("anonymous");
  });

  it("ignores a cookie with a forged signature or an unknown token", async () => {
    const signedIn = (await signIn("first@example.com", TEST_PASSWORD))!;
    const cookie = await cookieOf(signedIn.session);
    const [name, value] = cookie.split("=") as [string, string];
    // The signature's first character changed, always to another (a last base64 character can differ in padding bits only).
    const dot = value.lastIndexOf(".");
    const forged = `${name}=${value.slice(0, dot + 1)}${value[dot + 1] === "A" ? "B" : "A"}${value.slice(dot + 2)}`;
    expect(forged).not.toBe(cookie);
    expect((await actorFromCredentials({ cookie: forged, authorization: null })).kind).toBe("anonymous");
    expect((await actorFromCredentials({ cookie: "__promptduel_session=garbage", authorization: null })).kind).toBe("anonymous");
  });

  it("expires sessions", () => {
    const user = db().$client.prepare("select id from users limit 1").pluck().get() as number;
    const session = createSession(db(), { userId: user }, new Date(Date.now() - 31 * 86_400_000));
    expect(findSession(session.token, new Date())).toBeUndefined();
    expect(findSession(session.token, new Date(Date.now() - 30 * 86_400_000))).toBeDefined();
  });

  it("changes the password after checking the old one, signing out every other session of the account", async () => {
    const here = (await signIn("first@example.com", TEST_PASSWORD))!;
    const elsewhere = (await signIn("first@example.com", TEST_PASSWORD))!;
    const actor = await actorFromCredentials({ cookie: await cookieOf(here.session), authorization: null });
    if (actor.kind !== "user") throw new Error("not signed in");
    expect(await changePassword(actor, "not it", "a new long password")).toEqual({ ok: false });
    const changed = await changePassword(actor, TEST_PASSWORD, "a new long password");
    expect(changed).toMatchObject({ ok: true });
    expect(findSession(here.session.token)).toBeDefined();
    expect(findSession(elsewhere.session.token)).toBeUndefined();
    expect(await signIn("first@example.com", TEST_PASSWORD)).toBeNull();
    expect(await signIn("first@example.com", "a new long password")).not.toBeNull();
    expect(revokeOwnSessions(actor, "others")).toBe(1);
  });

  it("creates further owners from the command line without adopting anything, and refuses a taken email", async () => {
    const created = await createOwnerFromCli(account("cli@example.com"));
    expect(created).toEqual({ ok: true, userId: expect.any(Number), adopted: [] });
    expect(await createOwnerFromCli(account("cli@example.com"))).toMatchObject({ ok: false });
    if (!created.ok) return;
    expect(db().select().from(studyMembers).where(eq(studyMembers.userId, created.userId)).all()).toEqual([]);
  });
});

import { prepareFirstOwnerSetup } from "./accounts.server";

// What the console says at start (README: "the console says exactly what to open").

let setupToken: string | null = null;

/** Called once at boot, after migrations: opens the first-owner setup link while no account exists. */
export function prepareAccounts(): void {
  setupToken = prepareFirstOwnerSetup();
}

/** The lines server.js prints once it listens on `baseUrl`. */
export function startupMessage(baseUrl: string): string {
  const lines = [`promptduel listening on ${baseUrl}`, ""];
  if (setupToken) {
    lines.push(
      "No owner account yet. Open this one-time link to create the first one (it also makes you owner of the demo study):",
      "",
      `    ${baseUrl}/setup/${setupToken}`,
      "",
      "The link works until an owner exists; each start prints a new one. On a server without a browser:",
      "    npm run owner -- create --email you@example.com",
    );
  } else {
    lines.push(`Open ${baseUrl}/login and sign in. More owners: npm run owner -- create --email someone@example.com`);
  }
  return lines.join("\n");
}

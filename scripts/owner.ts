/**
 * Owner accounts on a server without a browser (issue 13):
 *   npm run owner -- create --email <email> [--name <display name>] [--db <sqlite file>]
 *   npm run owner -- set-password --email <email> [--db <sqlite file>]
 * The password is asked for twice on a terminal (not echoed), or read from the first line of stdin
 * (echo "$PASSWORD" | npm run owner -- create …); never from the command line, where `ps` shows it.
 * The first account created becomes owner of every study without one (the demo study) and closes
 * the first-owner setup link. set-password also signs that account out everywhere.
 */
import readline from "node:readline";
import { z } from "zod";
import { DisplayNameSchema } from "../app/auth/display-name";
import { NewPasswordSchema } from "../app/auth/password.server";
import { EmailSchema } from "../app/models/account.server";
import { parseFlags, validateFlags } from "./lib-sim/args";

const USAGE =
  "npm run owner -- create --email <email> [--name <display name>] [--db <sqlite file>] | set-password --email <email> [--db <sqlite file>]";

const ArgsSchema = z.strictObject({
  email: EmailSchema,
  name: DisplayNameSchema.optional(),
  db: z.string({ error: "db must be a file path" }).min(1).optional(),
});

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== "create" && command !== "set-password") throw new Error(`the first argument is create or set-password\n\nusage: ${USAGE}`);
  const args = validateFlags(ArgsSchema, parseFlags(rest), USAGE);
  // The app's own connection (migrations and the demo seed included), on --db if given.
  if (args.db) process.env.DATABASE_PATH = args.db;
  const password = NewPasswordSchema.safeParse(await readPassword());
  if (!password.success) throw new Error(password.error.issues[0]!.message);
  const { connection } = await import("../app/db.server");
  const accounts = await import("../app/services/accounts.server");
  try {
    if (command === "create") {
      const created = await accounts.createOwnerFromCli({
        email: args.email,
        displayName: args.name ?? args.email.split("@")[0]!,
        password: password.data,
      });
      if (!created.ok) throw new Error(created.message);
      console.log(`created ${args.email}${created.adopted.length > 0 ? `, owner of: ${created.adopted.join(", ")}` : ""}; sign in at /login`);
    } else {
      if (!(await accounts.resetPasswordFromCli(args.email, password.data))) throw new Error(`no account with the email ${args.email}`);
      console.log(`new password set for ${args.email}; every session of the account was signed out`);
    }
  } finally {
    connection().close();
  }
}

/** The password, twice on a terminal without echo, or the first line of stdin. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let input = "";
    for await (const chunk of process.stdin) input += String(chunk);
    return input.split(/\r?\n/)[0] ?? "";
  }
  const first = await ask("Password (at least 10 characters): ");
  const second = await ask("Repeat the password: ");
  if (first !== second) throw new Error("the two passwords differ");
  return first;
}

function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // Echo nothing of what is typed.
  (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text: string) => {
    if (text.includes(question)) process.stdout.write(question);
  };
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    }),
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});

import http from "node:http";

export interface Pair {
  assignmentId: number;
  query: string;
  left: string;
  right: string;
}

export type Choice = "left" | "right" | "tie" | "both_bad" | "skip";

/** A request lost on a kept-alive socket the server had already closed: it never reached the server. */
class ReusedSocketReset extends Error {
  constructor(cause: Error) {
    super(`request on a reused socket was reset: ${cause.message}`, { cause });
  }
}

interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A scripted annotator speaking the JSON API over real HTTP: joins once with the study's invite token
 * (POST /api/session; the cookie it gets back is its session), then asks for pairs and votes. Used by
 * browser tests and the server benchmark alike. node:http with keep-alive
 * rather than fetch: the benchmark's load generator shares the server's two cores, and fetch costs
 * about three times as much CPU per request.
 */
export class ApiAnnotator {
  private cookie = "";
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly baseUrl: string,
    private readonly studyId: number,
  ) {}

  /** Joins through an annotator invite link's token (the last part of /join/<token>). */
  async join(inviteToken: string, displayName: string): Promise<void> {
    const response = await this.post("/api/session", { inviteToken, displayName });
    if (response.status !== 201) throw new Error(`join failed: ${response.status} ${response.body}`);
    this.cookie = String(response.headers["set-cookie"]).split(";")[0]!;
  }

  /** The session cookie (name=value), to send requests of one's own as this annotator. */
  sessionCookie(): string {
    return this.cookie;
  }

  async nextPair(): Promise<Pair> {
    const response = await this.post(`/api/studies/${this.studyId}/assignments`);
    if (response.status !== 200) throw new Error(`next pair failed: ${response.status} ${response.body}`);
    return JSON.parse(response.body);
  }

  async vote(assignmentId: number, choice: Choice, comment?: string): Promise<{ status: string }> {
    return this.sendVote(comment === undefined ? { assignmentId, choice } : { assignmentId, choice, comment });
  }

  /** Votes and gets the next pair in the same request ("next": true). */
  async voteAndNext(assignmentId: number, choice: Choice): Promise<{ status: string; next: Pair | null }> {
    return this.sendVote({ assignmentId, choice, next: true });
  }

  /**
   * Resolves once the study's engine has taken in every committed vote and proposed its next pairs
   * (the app must run with PROMPTDUEL_TEST_HOOKS=1): a test waits for this state, never a fixed time.
   */
  async engineIdle(): Promise<{ round: number; policy: string }> {
    const response = await this.post(`/api/test/studies/${this.studyId}/engine-idle`);
    if (response.status !== 200) throw new Error(`engine-idle failed: ${response.status} ${response.body}`);
    return JSON.parse(response.body);
  }
  /** Test hook: resolves once the study's latest snapshot counts every vote the engine has (its statistics throttle skipped). */
  async engineStatsCurrent(): Promise<{ round: number; policy: string }> {
    const response = await this.post(`/api/test/studies/${this.studyId}/engine-stats-current`);
    if (response.status !== 200) throw new Error(`engine-stats-current failed: ${response.status} ${response.body}`);
    return JSON.parse(response.body);
  }

  /** The Cookie header of this annotator's session, for tests that send requests of their own. */
  cookieHeader(): string {
    return this.cookie;
  }

  close(): void {
    this.agent.destroy();
  }

  private async sendVote<T>(body: object): Promise<T> {
    const response = await this.post(`/api/studies/${this.studyId}/votes`, body);
    if (response.status !== 201 && response.status !== 200) throw new Error(`vote failed: ${response.status} ${response.body}`);
    return JSON.parse(response.body);
  }

  /**
   * A keep-alive socket the server closed as idle can be handed to the next request before its close is
   * read (a busy event loop): that request fails with ECONNRESET without the server having read it. It is
   * sent again once on a fresh socket, as browsers do (node:http documents `reusedSocket` for this).
   */
  private async post(path: string, body?: object): Promise<JsonResponse> {
    try {
      return await this.postOnce(path, body);
    } catch (error) {
      if (!(error instanceof ReusedSocketReset)) throw error;
      return this.postOnce(path, body);
    }
  }

  private postOnce(path: string, body?: object): Promise<JsonResponse> {
    const payload = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        new URL(path, this.baseUrl),
        {
          method: "POST",
          agent: this.agent,
          headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload), Cookie: this.cookie },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        reject(request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE") ? new ReusedSocketReset(error) : error);
      });
      request.end(payload);
    });
  }
}

/**
 * A scripted annotator speaking the JSON API over real HTTP: signs in once (cookie), then asks for
 * pairs and votes. Used by browser tests and the server benchmark alike.
 */
export class ApiAnnotator {
  private cookie = "";

  constructor(
    private readonly baseUrl: string,
    private readonly studyId: number,
  ) {}

  async signIn(displayName: string): Promise<void> {
    const response = await fetch(`${this.baseUrl}/api/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ displayName }),
    });
    if (response.status !== 201) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
    this.cookie = response.headers.get("set-cookie")!.split(";")[0]!;
  }

  async nextPair(): Promise<{ assignmentId: number; query: string; left: string; right: string }> {
    const response = await this.post(`/api/studies/${this.studyId}/assignments`);
    if (!response.ok) throw new Error(`next pair failed: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async vote(assignmentId: number, choice: "left" | "right" | "tie" | "both_bad" | "skip"): Promise<{ status: string }> {
    const response = await this.post(`/api/studies/${this.studyId}/votes`, { assignmentId, choice });
    if (response.status !== 201 && response.status !== 200) throw new Error(`vote failed: ${response.status} ${await response.text()}`);
    return response.json();
  }

  private post(path: string, body: unknown = {}) {
    return fetch(`${this.baseUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Cookie: this.cookie },
      body: JSON.stringify(body),
    });
  }
}

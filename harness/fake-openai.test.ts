import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeEmbedding, startFakeOpenAI, type FakeOpenAI } from "./fake-openai";

describe("the fake OpenAI-compatible server, through the SDK", () => {
  let fake: FakeOpenAI;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ dimension: 8, retryAfterMs: 1 });
    client = new OpenAI({ apiKey: "test", baseURL: fake.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("answers embeddings as base64 Float32 when asked (the SDK's default) and as floats otherwise", async () => {
    const expected = fakeEmbedding("hello", 8);
    const viaBase64 = await client.embeddings.create({ model: "e", input: ["hello"] });
    const viaFloats = await client.embeddings.create({ model: "e", input: "hello", encoding_format: "float" });
    expect(fake.requests.at(-2)!.body.encoding_format).toBe("base64");
    expect(viaFloats.data[0]!.embedding).toEqual(expected);
    viaBase64.data[0]!.embedding.forEach((value, k) => expect(value).toBeCloseTo(expected[k]!, 3));
  });

  it("fails chat requests whose user message matches a rule, every time, and logs each request", async () => {
    fake.failWhenUserMessageContains("poison", "server_error");
    const before = fake.requests.length;
    await expect(client.chat.completions.create({ model: "c", messages: [{ role: "user", content: "poison pill" }] })).rejects.toThrow(
      "500 The server had an error while processing your request",
    );
    const fine = await client.chat.completions.create({ model: "c", messages: [{ role: "user", content: "hello" }] });
    expect(fine.choices[0]!.message.content).toMatch(/^Answer [0-9a-f]{8}\. You asked: hello/);
    expect(fake.requests.slice(before).map((r) => [r.status, r.completed])).toEqual([
      [500, false],
      [200, true],
    ]);
  });
});
